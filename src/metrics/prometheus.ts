import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { AppContext } from '../kernel/context.js';
import { listInstances } from '../instances/instances.js';
import { lastEventId } from '../events/history.js';
import { countState } from '../state/state.js';
import { tokenTax } from './server-metrics.js';

/** Counts and latency buckets of one (method, route, status). */
interface RouteStats {
  labels: { method: string; route: string; status: string };
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); the last slot is above the highest bound. */
  buckets: number[];
}

// Request latencies of a local API sit mostly below 10 ms; the low buckets keep them apart.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Per-route request counts and latency histograms, aggregated by hand on the request path
 * (a map lookup and three increments) and handed to the prom-client registry as a collector
 * when Prometheus scrapes. prom-client's own Histogram validates and hashes labels on every
 * observation, which costs several microseconds per request on the hottest path we have.
 */
class RequestStats {
  private readonly routes: RouteStats[] = [];
  // route → method → status, so that no key string is built per request.
  private readonly index = new Map<string, Map<string, Map<number, RouteStats>>>();

  record(method: string, route: string, status: number, seconds: number): void {
    let methods = this.index.get(route);
    if (!methods) this.index.set(route, (methods = new Map()));
    let statuses = methods.get(method);
    if (!statuses) methods.set(method, (statuses = new Map()));
    let stats = statuses.get(status);
    if (!stats) {
      stats = { labels: { method, route, status: String(status) }, count: 0, sum: 0, buckets: new Array(LATENCY_BUCKETS.length + 1).fill(0) };
      statuses.set(status, stats);
      this.routes.push(stats);
    }
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]!) bucket++;
    stats.buckets[bucket]!++;
    stats.count++;
    stats.sum += seconds;
  }

  all(): readonly RouteStats[] {
    return this.routes;
  }

  /** A histogram in the shape prom-client's registry reads from its metrics (`get()`). */
  histogramCollector(name: string, help: string) {
    const routes = this.routes;
    return {
      name,
      help,
      type: 'histogram' as const,
      aggregator: 'sum' as const,
      reset() {},
      get() {
        const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
        for (const stats of routes) {
          let cumulative = 0;
          LATENCY_BUCKETS.forEach((bound, i) => {
            cumulative += stats.buckets[i]!;
            values.push({ labels: { le: bound, ...stats.labels }, value: cumulative, metricName: `${name}_bucket` });
          });
          values.push({ labels: { le: '+Inf', ...stats.labels }, value: stats.count, metricName: `${name}_bucket` });
          values.push({ labels: stats.labels, value: stats.sum, metricName: `${name}_sum` });
          values.push({ labels: stats.labels, value: stats.count, metricName: `${name}_count` });
        }
        return { name, help, type: 'histogram' as const, values, aggregator: 'sum' as const };
      },
    };
  }
}

/**
 * The Prometheus view of one app, in its own registry (never prom-client's global one, so two
 * apps in one process, as in tests, never share counters). Only request observation runs per
 * request; everything else is read from the app's live counters and the database when
 * Prometheus scrapes.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();
  private readonly requests = new RequestStats();
  // Refusals are counted here, not in the audit log: a flood of bad tokens must cost no disk.
  private readonly unauthorized: Counter;
  private readonly forbidden: Counter<'role'>;

  constructor(ctx: AppContext) {
    const registers = [this.registry];
    const requests = this.requests;
    this.registry.registerMetric(
      requests.histogramCollector(
        'koor_http_request_duration_seconds',
        'Time from request received to response sent, by route template, method and status',
      ) as unknown as Metric,
    );
    new Counter({
      name: 'koor_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status',
      labelNames: ['method', 'route', 'status'],
      registers,
      collect() {
        this.reset();
        for (const stats of requests.all()) this.labels(stats.labels).inc(stats.count);
      },
    });
    this.unauthorized = new Counter({
      name: 'koor_auth_unauthorized_total',
      help: 'Requests refused with 401: no valid credential, or two that disagree (none of them is audited)',
      registers,
    });
    this.forbidden = new Counter({
      name: 'koor_auth_forbidden_total',
      help: "Requests refused with 403 because the caller's role may not call the route, by role",
      labelNames: ['role'],
      registers,
    });
    const fromStats = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    fromStats('koor_events_published_total', 'Events stored and fanned out', () => ctx.committer.eventsStored);
    fromStats('koor_webhook_deliveries_total', 'Webhook deliveries answered with a 2xx', () => ctx.webhooks.deliveries);
    fromStats('koor_webhook_failures_total', 'Webhook delivery attempts that failed', () => ctx.webhooks.failures);
    new Gauge({
      name: 'koor_websocket_subscribers',
      help: 'Open WebSocket event subscriptions',
      registers,
      collect() {
        this.set(ctx.streams.count('websocket'));
      },
    });
    new Gauge({
      name: 'koor_instances',
      help: 'Registered instances by status',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts = new Map<string, number>([['pending', 0], ['active', 0], ['stale', 0]]);
        for (const instance of await listInstances(ctx)) counts.set(instance.status, (counts.get(instance.status) ?? 0) + 1);
        this.reset();
        for (const [status, n] of counts) this.labels(status).set(n);
      },
    });
    new Gauge({
      name: 'koor_token_tax_calls',
      help: 'Calls since the last token-tax reset, by plane (rest or mcp)',
      labelNames: ['plane'],
      registers,
      collect() {
        const tax = tokenTax(ctx.counters);
        this.labels('rest').set(tax.rest_calls);
        this.labels('mcp').set(tax.mcp_calls);
      },
    });
    new Gauge({
      name: 'koor_token_tax_tokens',
      help: 'Estimated tokens since the last token-tax reset: spent through MCP, saved by REST',
      labelNames: ['kind'],
      registers,
      collect() {
        const tax = tokenTax(ctx.counters);
        this.labels('mcp_estimated').set(tax.mcp_estimated_tokens);
        this.labels('rest_saved').set(tax.rest_tokens_saved);
      },
    });
    new Gauge({
      name: 'koor_uptime_seconds',
      help: 'Seconds since the server started',
      registers,
      collect() {
        this.set(Math.floor((Date.now() - ctx.startedAt) / 1000));
      },
    });
    new Gauge({
      name: 'koor_state_keys',
      help: 'Live keys in the state store',
      registers,
      async collect() {
        this.set(await countState(ctx));
      },
    });
    new Gauge({
      name: 'koor_last_event_id',
      help: 'Id of the newest stored event',
      registers,
      async collect() {
        this.set(await lastEventId(ctx));
      },
    });
  }

  /** Records one answered request; `route` is the route template (not the URL) to bound the label set. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.record(method, route, status, seconds);
  }

  /** One request refused for want of a valid credential. */
  countUnauthorized(): void {
    this.unauthorized.inc();
  }

  /** One request refused because the caller's role may not call its route. */
  countForbidden(role: string): void {
    this.forbidden.labels(role).inc();
  }

  /** The whole registry in the Prometheus text exposition format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

declare module '../kernel/context.js' {
  interface AppContext {
    /** The app's Prometheus view (its own registry). */
    prometheus: PrometheusMetrics;
  }
}
