import { useEffect, useState } from 'preact/hooks';

/** `#/state?key=a/b` → { page: 'state', params: URLSearchParams }. */
export function parseHash(hash = location.hash) {
  const text = hash.replace(/^#\/?/, '');
  const [page, query = ''] = text.split('?');
  return { page: page || 'team', params: new URLSearchParams(query) };
}

export function hrefFor(page, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();
  return `#/${page}${query ? `?${query}` : ''}`;
}

export function navigate(page, params) {
  location.hash = hrefFor(page, params);
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const update = () => setRoute(parseHash());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
