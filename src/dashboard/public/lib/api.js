// Talks to the Koor API through the dashboard's own origin (the server proxies /api/*).
// With auth on, the token typed into the login field is kept for this browser tab only.

const TOKEN_KEY = 'koor.token';

export const auth = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  },
  set(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An API answer that was not 2xx; `message` is the server's `error` text. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let unauthorizedHandler = () => {};
/** Called whenever the API answers 401, so the app can show the login field again. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

/**
 * One API call. Objects are sent as JSON, strings as they are. Answers come back parsed
 * (JSON or text); with `raw: true` the Response itself (for headers such as X-Koor-Version).
 */
export async function request(method, path, { query, body, headers = {}, raw = false } = {}) {
  const sent = { ...headers };
  if (auth.token) sent.authorization = `Bearer ${auth.token}`;
  let payload = body;
  if (body !== undefined && typeof body !== 'string') {
    payload = JSON.stringify(body);
    sent['content-type'] ??= 'application/json';
  }
  let response;
  try {
    response = await fetch(withQuery(path, query), { method, headers: sent, body: payload, cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, `cannot reach the dashboard server: ${err.message}`, null);
  }
  if (!response.ok) {
    let parsed = null;
    const text = await response.text();
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: use the text
    }
    const message = (parsed && typeof parsed.error === 'string' && parsed.error) || text || response.statusText;
    if (response.status === 401) unauthorizedHandler(message);
    throw new ApiError(response.status, message, parsed);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  return type.includes('json') ? response.json() : response.text();
}

export const api = {
  get: (path, query, options) => request('GET', path, { ...options, query }),
  post: (path, body, options) => request('POST', path, { ...options, body }),
  put: (path, body, options) => request('PUT', path, { ...options, body }),
  delete: (path, options) => request('DELETE', path, options),
};

/** Keys and names may hold `/`: each segment is encoded, the slashes stay. */
export function encodePath(value) {
  return String(value).split('/').map(encodeURIComponent).join('/');
}

/** WebSocket URL of the live event stream (browsers cannot set headers there, so `?token=`). */
export function eventStreamUrl(pattern, after) {
  const url = new URL('/api/events/subscribe', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('pattern', pattern || '*');
  if (after) url.searchParams.set('after', String(after));
  if (auth.token) url.searchParams.set('token', auth.token);
  return url.toString();
}
