import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/**
 * Counts every answered request, once, after the answer is sent: REST calls under `/api/` for
 * the token tax and the calling agent's `rest_calls`, and every route for Prometheus. All of it
 * is in memory (the agent counters are flushed to the database by a background job), so the
 * request path never waits for a write.
 */
async function metricsHooks(app: FastifyInstance): Promise<void> {
  const counters = app.koor.counters;
  const prometheus = app.koor.prometheus;
  app.addHook('onResponse', (request, reply, done) => {
    if (request.url.startsWith('/api/')) counters.countCall('rest', request.actor?.instanceId);
    // The route template (not the URL) keeps the label set bounded; unknown paths share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    prometheus.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

export default fp(metricsHooks, { name: 'koor-metrics-hooks' });
