/**
 * The one error type handlers throw. The app's error handler turns it into
 * `{"error": message, "code": status, ...extra}`; handlers never format error bodies themselves.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const unauthorized = (message = 'invalid or missing bearer token') => new HttpError(401, message);
export const notFound = (what: string, id: string | number) => new HttpError(404, `${what} not found: ${id}`);
export const conflict = (message: string, extra?: Record<string, unknown>) => new HttpError(409, message, extra);
export const preconditionFailed = (message: string, extra?: Record<string, unknown>) => new HttpError(412, message, extra);
export const payloadTooLarge = (message: string) => new HttpError(413, message);
