import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/**
 * Counts every answered request, once, after the answer is sent: agents' REST calls under
 * `/api/` for the token tax and the calling agent's `rest_calls`, and every route for
 * Prometheus. Only calls made with an instance token are an agent's (SPEC §10): the
 * dashboard's own requests and a person's (server token, or anonymous in local mode) saved
 * no model any tokens. All of it
 * is in memory (the agent counters are flushed to the database by a background job), so the
 * request path never waits for a write.
 */
async function metricsHooks(app: FastifyInstance): Promise<void> {
  const counters = app.koor.counters;
  const prometheus = app.koor.prometheus;
  app.addHook('onResponse', (request, reply, done) => {
    const instanceId = request.actor?.instanceId;
    if (instanceId && request.url.startsWith('/api/')) counters.countCall('rest', instanceId);
    // The route template (not the URL) keeps the label set bounded; unknown paths share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    prometheus.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

export default fp(metricsHooks, { name: 'koor-metrics-hooks' });
