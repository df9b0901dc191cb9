/**
 * A URL as it may be shown: credentials in it (`https://user:pw@host/`) become `***`
 * (`https://***@host/`), so a listing, an audit entry, an event or an error message never
 * carries a password. Text that is not a URL is shown as it is.
 */
export function maskCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!parsed.username && !parsed.password) return url;
  parsed.username = '***';
  parsed.password = '';
  return parsed.toString();
}
