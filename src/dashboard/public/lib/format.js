// Small, pure formatting helpers shared by the pages.

export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatClock(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? '');
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** "12s ago", "4m ago", "3h ago", "2d ago". */
export function formatAgo(iso, now = Date.now()) {
  if (!iso) return 'never';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return String(iso);
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

export function formatNumber(value, digits = 0) {
  if (value === undefined || value === null || Number.isNaN(Number(value))) return '—';
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatUsd(value) {
  if (value === undefined || value === null) return '—';
  const n = Number(value);
  return `$${n.toLocaleString(undefined, { minimumFractionDigits: n < 1 && n > 0 ? 4 : 2, maximumFractionDigits: n < 1 && n > 0 ? 4 : 2 })}`;
}

/** JSON on one line, cut to `max` characters, for table cells. */
export function compactJson(value, max = 160) {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function prettyJson(value) {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** Pretty-prints text that is JSON; leaves anything else as it is. */
export function prettyText(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** `<input type="datetime-local">` value → RFC 3339 UTC, or undefined when empty. */
export function localInputToIso(value) {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function splitList(text) {
  return String(text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Seconds → "3h24m10s" (strings such as /health's uptime pass through). */
export function formatDuration(value) {
  if (typeof value === 'string') return value;
  const total = Math.max(0, Math.floor(Number(value) || 0));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${d ? `${d}d` : ''}${d || h ? `${h}h` : ''}${d || h || m ? `${m}m` : ''}${s}s`;
}
