import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorJson } from '../kernel/errors.js';

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

/** Serves GET/HEAD requests for the page, its modules and the vendored libraries. */
export class StaticFiles {
  private readonly vendor = vendorFiles();

  constructor(private readonly root: string = PUBLIC_DIR) {}

  /** Maps a request path to a file inside the public folder or the vendor list; undefined when outside. */
  resolvePath(pathname: string): string | undefined {
    const vendored = this.vendor.get(pathname);
    if (vendored) return vendored;
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
    const file = resolve(this.root, relative);
    // Never serve anything outside the public folder (`/../../etc/passwd`).
    if (file !== this.root && !file.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep)) return undefined;
    return file;
  }

  async serve(request: IncomingMessage, response: ServerResponse, pathname: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' });
      response.end(errorJson(405, `method ${request.method} not allowed on ${pathname}`));
      return;
    }
    const file = this.resolvePath(pathname);
    const info = file ? await stat(file).catch(() => undefined) : undefined;
    if (!file || !info?.isFile()) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(errorJson(404, `no dashboard file ${pathname}`));
      return;
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      // Pages change with the package version; revalidate instead of caching stale modules.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file).on('error', () => response.destroy()).pipe(response);
  }
}
