import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import pretty from 'pino-pretty';
import { DEFAULT_CONFIG, parseBind, type Config } from './config.js';
import { OutboundPolicy } from '../outbound/policy.js';
import { openDatabase, type Db } from '../db/engine.js';
import { EventHub } from '../events/hub.js';
import { Committer } from '../commit/committer.js';
import { VersionedStore } from '../mvcc/versioned-store.js';
import { contractSpecCheck } from '../contracts/document.js';
import { createEmitter } from '../events/fanout.js';
import { OpenStreams } from '../events/open-streams.js';
import { Presence } from '../liveness/presence.js';
import { ActiveLeases } from '../leases/active.js';
import { createTokenCache } from '../instances/token-cache.js';
import { AgentMetricsFlusher } from '../metrics/agent-metrics.js';
import { PrometheusMetrics } from '../metrics/prometheus.js';
import { pendingDeliveryEvents, WebhookDispatcher } from '../webhooks/dispatcher.js';
import { refuseDeepJsonBodies } from '../kernel/json-depth.js';
import { storableValueValidators } from './storable-values.js';
import { clientErrorAnswerer } from './client-errors.js';
import { limitConnections } from './connection-limits.js';
import { JobSet } from '../kernel/jobs.js';
import { WorkPool } from '../kernel/work-pool.js';
import { CallCounters } from '../metrics/counters.js';
import type { Actor, AppContext } from '../kernel/context.js';
import { frameworkErrorBody, installErrorHandling } from './error-handler.js';
import authPlugin from './auth.js';
import browserSafety, { apiBrowserSafety } from './browser-safety.js';
import webSocketSupport from '../kernel/websockets.js';
import auditHooks from '../audit/hooks.js';
import metricsHooks from '../metrics/hooks.js';
import healthRoutes from './health.js';
import { KOOR_VERSION } from '../kernel/version.js';
import stateRoutes from '../state/routes.js';
import specsRoutes from '../specs/routes.js';
import eventsRoutes from '../events/routes.js';
import webhooksRoutes from '../webhooks/routes.js';
import instancesRoutes from '../instances/routes.js';
import livenessRoutes from '../liveness/routes.js';
import rulesRoutes from '../rules/routes.js';
import contractsRoutes from '../contracts/routes.js';
import complianceRoutes from '../compliance/routes.js';
import templatesRoutes from '../templates/routes.js';
import auditRoutes from '../audit/routes.js';
import metricsRoutes from '../metrics/routes.js';
import llmRoutes from '../llm/routes.js';
import mcpRoutes from '../mcp/routes.js';
import backupRoutes from '../backup/routes.js';
import leasesRoutes from '../leases/routes.js';
import messagesRoutes from '../messages/routes.js';
import consumerRoutes from '../events/consumer-routes.js';
import projectsRoutes from '../projects/routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    koor: AppContext;
  }
  interface FastifyRequest {
    actor: Actor;
  }
}

export const BODY_LIMIT = 10 * 1024 * 1024;

/**
 * Every service of one app, made here and nowhere else, in the order they need each other:
 * the one write door first (everything that changes data goes through it), then the shared
 * caches and emitters, then the domains' workers. Services that need the whole context get it
 * after it exists; none of them does work before the app is ready.
 */
function buildContext(config: Config, db: Db, log: FastifyBaseLogger): AppContext {
  const hub = new EventHub();
  const ctx = {
    config,
    db,
    log,
    hub,
    jobs: new JobSet(db.replicas, log),
    work: new WorkPool(config.workBudgetMs),
    counters: new CallCounters(),
    streams: new OpenStreams(),
    presence: new Presence(),
    activeLeases: new ActiveLeases(),
    tokens: createTokenCache(hub),
    stateStore: new VersionedStore(db, 'state', 'state key'),
    specStore: new VersionedStore(db, 'spec', 'spec'),
    eventRetainers: [pendingDeliveryEvents],
    version: KOOR_VERSION,
    startedAt: Date.now(),
    baseUrl: `http://${config.bind}`,
    outbound: new OutboundPolicy({ allow: config.outboundAllow, deny: config.outboundDeny }),
  } as Omit<AppContext, 'commit' | 'committer' | 'specChecks' | 'emitter' | 'agentMetrics' | 'prometheus' | 'webhooks'> as AppContext;
  ctx.specChecks = [contractSpecCheck(ctx.work)];
  ctx.emitter = createEmitter(ctx);
  ctx.committer = new Committer(db, (events) => ctx.emitter.local(events), (err) => log.error({ err }, 'after-commit effect failed'), ctx.jobs);
  ctx.commit = ctx.committer.commit;
  ctx.agentMetrics = new AgentMetricsFlusher(ctx.commit, ctx.counters);
  ctx.prometheus = new PrometheusMetrics(ctx);
  ctx.webhooks = new WebhookDispatcher(ctx);
  return ctx;
}

export interface BuildOptions {
  /** Use this database instead of opening the configured one (the app will not close it). */
  db?: Db;
  logger?: FastifyServerOptions['logger'];
}

/**
 * Builds a ready-to-use Koor app: database open and migrated, every domain's routes
 * registered, background jobs started on ready and stopped on close. Tests drive the result
 * with `app.inject()`; the server bin calls `listen()` on it.
 */
export async function buildApp(partial: Partial<Config> = {}, options: BuildOptions = {}): Promise<FastifyInstance> {
  const config: Config = { ...DEFAULT_CONFIG, ...partial };
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      // Readable lines by default; `--log-format json` keeps pino's JSON lines for collectors.
      ...(config.logFormat === 'text' ? { stream: pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) } : {}),
      redact: ['req.headers.authorization', 'req.headers["x-koor-instance-token"]'],
    },
    bodyLimit: BODY_LIMIT,
    // Per-request log lines cost more than the requests themselves; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    requestTimeout: config.requestTimeoutMs,
    // Node looks for requests past their time every 30 s by default; a shorter limit wants
    // a closer look, or it would only be kept to the nearest half minute.
    http: { connectionsCheckingInterval: Math.min(30_000, Math.max(250, config.requestTimeoutMs / 2)) },
    clientErrorHandler: clientErrorAnswerer(config.requestTimeoutMs),
    // error-handler.ts refuses requests during close with Koor's own error body.
    return503OnClosing: false,
    // Errors the router raises before any route runs (a malformed %-escape, an over-long
    // path segment) get the same {error, code} shape as everything else.
    frameworkErrors: (err, _request, reply) => {
      const { status, body } = frameworkErrorBody(err);
      void (reply as FastifyReply).code(status).send(body);
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    schemaController: { compilersFactory: { buildValidator: storableValueValidators() } },
  });

  const db = options.db ?? (await openDatabase({
    database: config.database,
    dataDir: config.dataDir,
    sqliteSynchronous: config.sqliteSynchronous,
    warn: (message, err) => app.log.warn({ err }, message),
    replicaRetryMs: config.leaderRetryMs,
  }));
  const ctx = buildContext(config, db, app.log);
  app.decorate('koor', ctx);
  // Outbound calls may not reach this API: where it listens, or where it is told to listen.
  ctx.outbound.addOwnServer(() => {
    const bound = parseBind(config.bind, '--bind');
    const address = app.server.listening ? app.server.address() : null;
    return { name: 'API', host: bound.host, port: typeof address === 'object' && address ? address.port : bound.port };
  });

  limitConnections(app, { maxConnections: config.maxConnections, bodyIdleMs: config.bodyIdleTimeoutMs });
  installErrorHandling(app);
  // First of the request hooks: a request a web page must not make is refused before it is
  // parsed, identified or audited.
  await app.register(browserSafety, apiBrowserSafety(config));
  refuseDeepJsonBodies(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Koor API', version: KOOR_VERSION, description: 'Coordination server for AI coding agents.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Each operation names who may call it (SPEC §15), as `x-koor-permission`.
    transform: ({ schema, url, route }) => ({
      schema: { ...schema, 'x-koor-permission': route.config?.permission } as typeof schema,
      url,
    }),
  });
  // Before any route: WebSocket upgrades are routed (and refused) like every other request.
  await app.register(webSocketSupport, { goingAway: 'server shutting down' });
  await app.register(authPlugin);
  await app.register(auditHooks);
  await app.register(metricsHooks);

  app.get('/api/openapi.json', { config: { permission: 'read' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes);
  for (const routes of [
    stateRoutes, specsRoutes, eventsRoutes, webhooksRoutes, instancesRoutes, livenessRoutes,
    rulesRoutes, contractsRoutes, complianceRoutes, templatesRoutes, auditRoutes, metricsRoutes,
    llmRoutes, mcpRoutes, backupRoutes, leasesRoutes, messagesRoutes, consumerRoutes, projectsRoutes,
  ]) {
    await app.register(routes);
  }

  app.addHook('onReady', async () => ctx.jobs.startAll());
  // Close order: stop jobs first (they may still write), then the database.
  app.addHook('onClose', async () => {
    await ctx.jobs.stopAll();
    await ctx.work.close();
    if (!options.db) await db.close();
  });

  await app.ready();
  return app;
}
