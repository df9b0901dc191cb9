import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';

/**
 * The deepest nesting of arrays and objects accepted in JSON the server parses and then works
 * on. V8's JSON.stringify, and every recursive walk (diffs, schema checks), runs out of stack
 * somewhere past a few thousand levels, and a 10 MB body can nest millions deep; no document
 * an agent shares comes near this limit.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * Whether `value` nests arrays and objects more than `limit` levels deep (a scalar is level
 * 0, `[]` level 1). Walks with its own stack, so a hostile value cannot overflow the real one.
 */
export function nestedDeeperThan(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const pending: unknown[] = [value];
  const depths: number[] = [0];
  while (pending.length > 0) {
    const item = pending.pop();
    const depth = depths.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/**
 * Makes the app's JSON body parser (fastify's own, with its `__proto__` and `constructor`
 * guards) refuse bodies nested deeper than MAX_JSON_DEPTH with a 400, before any route sees
 * them. Plugins that take raw bodies replace the parser in their own scope and are unaffected.
 */
export function refuseDeepJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, String(body), (err, value) => {
      if (err) return done(err, undefined);
      if (nestedDeeperThan(value)) return done(badRequest(`request body is nested more than ${MAX_JSON_DEPTH} levels deep`), undefined);
      done(null, value);
    });
  });
}
