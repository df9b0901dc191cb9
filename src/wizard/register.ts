import { IDENTITY_FILE, readIdentity, writeIdentity } from '../cli/identity-file.js';

/**
 * Gives each workspace its own Koor instance: registers the agent with the server (with the
 * server token the user gave the wizard, never written anywhere) and writes the instance's id
 * and token to the workspace's identity file. A workspace that already has an identity keeps
 * it. When the server cannot be reached, nothing is registered: each agent registers itself on
 * its first session (its digest hook does it), or the wizard is run again.
 */
export interface WorkspaceIdentity {
  dir: string;
  name: string;
  project: string;
  stack: string;
}

export interface Registration {
  registered: string[];
  kept: string[];
  /** Why nothing or not everything was registered, for the report. */
  notices: string[];
}

const TIMEOUT_MS = 3000;

async function call(server: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: reported by status
  }
  return { status: response.status, json };
}

export async function registerWorkspaces(server: string, serverToken: string | undefined, workspaces: WorkspaceIdentity[]): Promise<Registration> {
  const result: Registration = { registered: [], kept: [], notices: [] };
  const missing = workspaces.filter((w) => {
    const known = readIdentity(w.dir);
    if (known.token && known.instanceId) result.kept.push(w.dir);
    return !(known.token && known.instanceId);
  });
  if (missing.length === 0) return result;

  try {
    await call(server, '/health', undefined);
  } catch {
    result.notices.push(
      `${server} cannot be reached, so no agent was registered: each agent registers itself in its first session (or run koor-wizard again once the server is up)`,
    );
    return result;
  }
  for (const w of missing) {
    const answer = await call(server, '/api/instances/register', serverToken, { name: w.name, workspace: w.project, stack: w.stack }).catch(
      (err: Error) => ({ status: 0, json: { error: err.message } }),
    );
    const id = answer.json?.id;
    const token = answer.json?.token;
    if (answer.status === 200 && typeof id === 'string' && typeof token === 'string') {
      writeIdentity(w.dir, { instanceId: id, token, name: w.name, project: w.project });
      result.registered.push(w.dir);
      continue;
    }
    const why = typeof answer.json?.error === 'string' ? answer.json.error : `HTTP ${answer.status}`;
    const hint = answer.status === 401 || answer.status === 403 ? ' (give the server token with --token)' : '';
    result.notices.push(`could not register ${w.name} with ${server}: ${why}${hint}; ${IDENTITY_FILE} was not written`);
    if (answer.status === 401 || answer.status === 403) break;
  }
  return result;
}
