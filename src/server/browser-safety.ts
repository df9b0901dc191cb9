import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, REASONS } from '../kernel/errors.js';
import { parseBind, type Config } from './config.js';

/**
 * Browser safety (SPEC §15): what keeps a web page open in the user's browser from using a
 * Koor server on the same machine. Every such check is decided here, for the API and the
 * dashboard alike (each with its own policy), and for `/mcp` through the MCP SDK's own checks
 * fed with the same lists (`mcpTransportChecks`).
 *
 * - **Host** (DNS rebinding: a page of `evil.example` whose name now resolves to 127.0.0.1 is
 *   same-origin with the server as far as the browser knows). In local mode, and wherever
 *   `--allowed-hosts` is set, the Host header must name the server: `localhost`, `127.0.0.1`,
 *   `[::1]`, the bind host, or an `--allowed-hosts` entry. Any port: the name is what a
 *   rebinding page cannot choose, while the port a client sees differs from the one the
 *   server listens on behind port forwarding (`docker -p 8080:9800`, `ssh -L`). `/health`
 *   answers any Host: probes and load balancers name the machine by its address, and it tells
 *   nothing but up/down and the version. A request without Host (HTTP/1.0) is no browser's.
 * - **Origin** (cross-site requests and WebSockets), in every mode: a request that carries an
 *   Origin header that is not this server's own, its partner's (the dashboard's, for the API)
 *   or in `--allowed-origins` is refused for every method but GET and HEAD, and for WebSocket
 *   upgrades and Server-Sent Events streams although those are GETs (a page may open either
 *   cross-site and read what comes back). Clients without Origin (curl, the CLI, agents) are
 *   not concerned.
 * - **Content types** (the API only): a request with a body must send a content type its route
 *   takes: the route's OpenAPI `consumes` list when it declares one (`*\/*` takes any, for
 *   stored raw values), JSON otherwise. A page can POST text/plain, form data or multipart
 *   cross-site without asking first; it cannot send application/json that way.
 */

/** Names every server answers to, as a Host header spells them. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const JSON_ONLY = ['application/json'];
const ANY_TYPE = '*/*';

export interface BrowserSafetyPolicy {
  /** The host names (lower case, IPv6 in brackets) a Host header may give; null when Host is not checked. */
  hostNames: ReadonlySet<string> | null;
  /** Origins (`scheme://host[:port]`, as a browser serializes them) allowed besides the server's own. */
  allowedOrigins: ReadonlySet<string>;
  /** The other Koor server whose pages may call this one (the dashboard, for the API). */
  partner?: { names: ReadonlySet<string>; port: number };
  /** Whether request bodies are held to their route's content types (the dashboard forwards them as they are). */
  checkContentTypes: boolean;
}

export interface BrowserSafetySettings {
  /** Local mode (no server token): the Host check is on even without allowedHosts. */
  localMode: boolean;
  /** The host this server binds to (`--bind`'s host part). */
  bindHost: string;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  /** The partner server's bind (`host:port`), when there is one. */
  partner?: { host: string; port: number };
  checkContentTypes: boolean;
}

/**
 * The API's policy: the Host check in local mode or once --allowed-hosts is set, the
 * dashboard (--dashboard-bind) as its partner, content types checked.
 */
export function apiBrowserSafety(config: Config): BrowserSafetyPolicy {
  return browserSafetyPolicy({
    localMode: config.authToken === '',
    bindHost: parseBind(config.bind, '--bind').host,
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
    partner: config.dashboardBind ? parseBind(config.dashboardBind, '--dashboard-bind') : undefined,
    checkContentTypes: true,
  });
}

/** A host as a Host header (and an origin) spells it: lower case, an IPv6 address in brackets. */
export function hostHeaderName(host: string): string {
  const lower = host.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

function serverNames(bindHost: string, allowedHosts: readonly string[]): Set<string> {
  return new Set([...LOOPBACK_NAMES, hostHeaderName(bindHost), ...allowedHosts.map(hostHeaderName)]);
}

export function browserSafetyPolicy(settings: BrowserSafetySettings): BrowserSafetyPolicy {
  const checkHost = settings.localMode || settings.allowedHosts.length > 0;
  return {
    hostNames: checkHost ? serverNames(settings.bindHost, settings.allowedHosts) : null,
    // Settings arrive normalized (config.ts); URL keeps the comparison exact for any other caller.
    allowedOrigins: new Set(settings.allowedOrigins.map((origin) => new URL(origin).origin)),
    partner: settings.partner && {
      names: serverNames(settings.partner.host, settings.allowedHosts),
      port: settings.partner.port,
    },
    checkContentTypes: settings.checkContentTypes,
  };
}

/** The name part of a Host header (`[::1]:9800` → `[::1]`), lower case. */
function hostName(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

const isHealthCheck = (url: string) => url === '/health' || url.startsWith('/health?');

function hostRefusal(policy: BrowserSafetyPolicy, request: FastifyRequest): HttpError | undefined {
  if (!policy.hostNames) return undefined;
  const host = request.headers.host;
  if (host === undefined || isHealthCheck(request.url)) return undefined;
  if (policy.hostNames.has(hostName(host))) return undefined;
  return new HttpError(
    403,
    `Host "${host}" is not a name of this server (${[...policy.hostNames].join(', ')}): ` +
      'a web page may have pointed its own domain at this machine (DNS rebinding); to reach the server by this name, add it to --allowed-hosts',
    { reason: REASONS.hostNotAllowed },
  );
}

/** Requests a web page must not make from another origin: every write, and every stream it could read. */
function needsOwnOrigin(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return true;
  const { upgrade, accept } = request.headers;
  return upgrade !== undefined || (accept ?? '').includes('text/event-stream');
}

/** The port an origin names, its scheme's default when it names none. */
const originPort = (url: URL) => Number(url.port || (url.protocol === 'https:' ? 443 : 80));

/** Whether an origin names the host (and port) a request was sent to. */
function sameAuthority(origin: URL, host: string): boolean {
  try {
    return new URL(`${origin.protocol}//${host}`).host === origin.host;
  } catch {
    return false; // a Host header that is no URL authority matches nothing
  }
}

function originAllowed(policy: BrowserSafetyPolicy, origin: string, host: string | undefined): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and anything else that is not an origin
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (policy.allowedOrigins.has(url.origin)) return true;
  // The server's own pages: the origin names the host and port the request was sent to.
  // (Its Host has passed the Host check already, where there is one.)
  if (host !== undefined && sameAuthority(url, host)) return true;
  const { partner } = policy;
  return partner !== undefined && partner.names.has(url.hostname) && partner.port === originPort(url);
}

function originRefusal(policy: BrowserSafetyPolicy, request: FastifyRequest): HttpError | undefined {
  const { origin } = request.headers;
  if (origin === undefined || !needsOwnOrigin(request)) return undefined;
  if (originAllowed(policy, origin, request.headers.host)) return undefined;
  const what = request.headers.upgrade !== undefined ? 'open a WebSocket' : request.method === 'GET' || request.method === 'HEAD' ? 'open an event stream' : `send ${request.method} requests`;
  return new HttpError(
    403,
    `Origin "${origin}" may not ${what} here: only this server's own pages, the dashboard's and --allowed-origins may; ` +
      'clients that send no Origin (the CLI, curl, agents) are not concerned',
    { reason: REASONS.originNotAllowed },
  );
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The content types a route takes: its declared `consumes`, JSON by default. */
function routeContentTypes(request: FastifyRequest): readonly string[] {
  const consumes = (request.routeOptions.schema as { consumes?: unknown } | undefined)?.consumes;
  return Array.isArray(consumes) && consumes.length > 0 ? (consumes as string[]) : JSON_ONLY;
}

function contentTypeRefusal(request: FastifyRequest): HttpError | undefined {
  if (request.is404 || !hasBody(request)) return undefined;
  const accepted = routeContentTypes(request);
  if (accepted.includes(ANY_TYPE)) return undefined;
  const given = request.headers['content-type'];
  const mediaType = given?.split(';')[0]!.trim().toLowerCase();
  if (mediaType !== undefined && accepted.includes(mediaType)) return undefined;
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
  const wanted = accepted.join(' or ');
  return new HttpError(
    415,
    given === undefined ? `${route} needs a body of type ${wanted}, and this one has no Content-Type` : `${route} takes ${wanted}, not Content-Type "${given}"`,
  );
}

/** What the policy says of a request: the refusal to answer with, or undefined to let it through. */
export function browserRefusal(policy: BrowserSafetyPolicy, request: FastifyRequest): HttpError | undefined {
  return hostRefusal(policy, request) ?? originRefusal(policy, request) ?? (policy.checkContentTypes ? contentTypeRefusal(request) : undefined);
}

/**
 * The MCP SDK's own Host and Origin checks for a StreamableHTTPServerTransport, from the same
 * lists. The SDK compares whole header values, so the host names are listed with the port
 * this request came in on (and bare, for port 80): the same names, any port, as above.
 */
export function mcpTransportChecks(policy: BrowserSafetyPolicy, request: FastifyRequest) {
  const host = request.headers.host;
  const port = host ? host.slice(hostName(host).length) : '';
  // And the request's own Host as given: it passed the check above, whatever its letter case.
  const hosts = policy.hostNames && [...[...policy.hostNames].flatMap((name) => [name, `${name}${port}`]), ...(host ? [host] : [])];
  const own = host ? [`http://${host}`, `https://${host}`] : [];
  const partner = policy.partner ? [...policy.partner.names].flatMap((name) => [`http://${name}:${policy.partner!.port}`, `https://${name}:${policy.partner!.port}`]) : [];
  return {
    enableDnsRebindingProtection: true,
    allowedHosts: hosts ?? undefined,
    allowedOrigins: [...policy.allowedOrigins, ...own, ...partner],
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The browser-safety policy this app enforces (mcp/routes.ts hands it to the MCP SDK). */
    browserSafety: BrowserSafetyPolicy;
  }
}

/**
 * Holds every request to the policy before anything else looks at it: an onRequest hook
 * registered ahead of auth, so a refused request is never identified, audited or parsed.
 */
async function browserSafetyPlugin(app: FastifyInstance, policy: BrowserSafetyPolicy): Promise<void> {
  app.decorate('browserSafety', policy);
  // Callback style: the hot path passes through without allocating a promise.
  app.addHook('onRequest', (request, _reply, done) => done(browserRefusal(policy, request)));
}

export default fp(browserSafetyPlugin, { name: 'koor-browser-safety' });
