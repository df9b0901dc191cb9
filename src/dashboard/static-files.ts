import { createRequire } from 'node:module';
import { basename, dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * The dashboard's own pages sit next to this module: `src/dashboard/public` when run from
 * source, `dist/src/dashboard/public` once built (scripts/copy-assets.mjs copies them).
 */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

const require = createRequire(import.meta.url);

/** Folder of an installed package, found through its resolvable main entry. */
function packageDir(name: string): string {
  const main = require.resolve(name);
  const marker = `${sep}node_modules${sep}${name}${sep}`;
  const at = main.lastIndexOf(marker);
  if (at === -1) throw new Error(`cannot locate package ${name} (resolved to ${main})`);
  return main.slice(0, at + marker.length);
}

/**
 * Browser builds of the front-end libraries, served from node_modules so the page needs no CDN.
 * The page's import map points bare names (`preact`, `htm`, …) at these URLs.
 */
function vendorFiles(): Map<string, string> {
  const preact = packageDir('preact');
  const htm = packageDir('htm');
  const uplot = packageDir('uplot');
  return new Map([
    ['/vendor/preact.mjs', join(preact, 'dist', 'preact.mjs')],
    ['/vendor/preact-hooks.mjs', join(preact, 'hooks', 'dist', 'hooks.mjs')],
    ['/vendor/htm.mjs', join(htm, 'dist', 'htm.mjs')],
    ['/vendor/uplot.mjs', join(uplot, 'dist', 'uPlot.esm.js')],
    ['/vendor/uplot.css', join(uplot, 'dist', 'uPlot.min.css')],
  ]);
}

// Our own table rather than the mime package's, which still calls modules application/javascript.
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

function setFileHeaders(response: { setHeader(name: string, value: string): unknown }, path: string): void {
  response.setHeader('content-type', CONTENT_TYPES[extname(path)] ?? 'application/octet-stream');
  // Pages change with the package version: revalidate (ETag, Last-Modified) instead of caching stale modules.
  response.setHeader('cache-control', 'no-cache');
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('referrer-policy', 'no-referrer');
}

/**
 * Serves the page, its modules and the vendored libraries (GET and HEAD) with @fastify/static,
 * which keeps every request inside the public folder and answers conditional requests. A path
 * with no file goes to the app's not-found handler.
 */
export async function dashboardFiles(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    index: 'index.html',
    contentType: false,
    cacheControl: false,
    setHeaders: setFileHeaders,
  });
  for (const [url, file] of vendorFiles()) {
    app.get(url, (_request, reply) => reply.sendFile(basename(file), dirname(file)));
  }
}
