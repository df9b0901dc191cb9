import { badRequest } from './errors.js';

// A date (`2026-02-16`) or a date-time with optional seconds, fraction and zone. A date-time
// without a zone is read as UTC, like every time Koor stores.
const TIME_BOUND = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

// Date.parse rolls 2026-02-30 over to March; a typo should be an error instead.
function isCalendarDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/**
 * Reads a `from`/`to` query value into the stored ISO form (UTC, milliseconds), so it compares
 * correctly with stored timestamps as text. Throws a 400 naming the parameter when unreadable.
 */
export function parseTimeBound(value: string | undefined, param: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  const match = TIME_BOUND.exec(value.trim());
  let ms = Number.NaN;
  if (match) {
    const [, date, time, zone] = match;
    if (isCalendarDate(date!)) ms = Date.parse(time ? `${date}T${time}${zone ?? 'Z'}` : `${date}T00:00:00Z`);
  }
  if (Number.isNaN(ms)) {
    throw badRequest(`invalid ${param} "${value}": expected an RFC 3339 time like 2026-02-16T14:30:00Z or a date like 2026-02-16`);
  }
  return new Date(ms).toISOString();
}

/** Both bounds of a query's time range; `from` later than `to` is a 400 too. */
export function parseTimeRange(query: { from?: string; to?: string }): { from?: string; to?: string } {
  const from = parseTimeBound(query.from, 'from');
  const to = parseTimeBound(query.to, 'to');
  if (from && to && from > to) throw badRequest(`invalid time range: from ${from} is after to ${to}`);
  return { from, to };
}
