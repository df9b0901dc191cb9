/**
 * One JSON request to a listening server over real HTTP, as an agent makes it: `token` is an
 * instance token (sent as X-Koor-Instance-Token). Answers the status and the parsed body.
 */
export async function callJson(url: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers['x-koor-instance-token'] = token;
  const response = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}
