// Projects this browser has looked at, offered as suggestions (the API has no project list).
const KEY = 'koor.projects';

export function knownProjects() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

export function rememberProject(project) {
  if (!project) return;
  const list = [project, ...knownProjects().filter((p) => p !== project)].slice(0, 20);
  localStorage.setItem(KEY, JSON.stringify(list));
}
