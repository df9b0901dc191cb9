import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from '../../test/support/app.js';

async function register(app: FastifyInstance, name: string): Promise<Record<string, string>> {
  const res = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name } });
  return { 'x-koor-instance-token': (res.json() as { token: string }).token };
}

const publish = (app: FastifyInstance, topic: string, data: unknown = {}) =>
  app.inject({ method: 'POST', url: '/api/events/publish', payload: { topic, data } });

for (const engine of testEngines()) {
  test(`a durable consumer reads after its acknowledged cursor, per instance, and waits for news on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const [worker, other] = [await register(app, 'worker'), await register(app, 'other')];
    await publish(app, 'build.old');
    const next = async (headers: Record<string, string>, query: string) => {
      const res = await app.inject({ method: 'GET', url: `/api/events/next?${query}`, headers });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as Array<{ id: number; topic: string }>).map((e) => e.topic);
    };
    const ack = (headers: Record<string, string>, name: string, id: number) =>
      app.inject({ method: 'POST', url: `/api/events/consumers/${name}/ack`, payload: { id }, headers });

    // A new consumer starts at the newest event: what came before is history, not news.
    assert.deepEqual(await next(worker, 'consumer=ci&pattern=build.*'), []);
    assert.deepEqual(await next(other, 'consumer=ci&pattern=build.*'), []);
    const ids: number[] = [];
    for (const topic of ['build.started', 'deploy.started', 'build.done']) ids.push((await publish(app, topic)).json().id);

    assert.deepEqual(await next(worker, 'consumer=ci&pattern=build.*'), ['build.started', 'build.done']);
    assert.deepEqual(await next(worker, 'consumer=ci&pattern=build.*&max=1'), ['build.started'], 'next moves nothing');
    const acked = await ack(worker, 'ci', ids[0]!);
    assert.deepEqual(acked.json(), { consumer: 'ci', cursor: ids[0] });
    assert.deepEqual(await next(worker, 'consumer=ci&pattern=build.*'), ['build.done']);
    assert.deepEqual(await next(worker, 'consumer=ci'), ['deploy.started', 'build.done']);
    await ack(worker, 'ci', ids[2]!);
    assert.deepEqual(await next(worker, 'consumer=ci'), []);
    // The other instance's consumer of the same name has its own cursor.
    assert.deepEqual(await next(other, 'consumer=ci&pattern=build.*'), ['build.started', 'build.done']);

    const waiting = next(worker, 'consumer=ci&pattern=build.*&wait=20s');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await publish(app, 'deploy.done');
    await publish(app, 'build.again');
    assert.deepEqual(await waiting, ['build.again']);
    assert.deepEqual(await next(worker, 'consumer=ci&pattern=nothing.*&wait=100ms'), []);

    for (const [query, message] of [
      ['pattern=*', /consumer/],
      ['consumer=has%20space', /invalid consumer/],
      ['consumer=x&pattern=build.%5B', /invalid pattern/],
      ['consumer=x&wait=1h', /at most 5m/],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: `/api/events/next?${query}`, headers: worker });
      assert.equal(res.statusCode, 400, query);
      assert.match(res.json().error, message);
    }
    assert.equal((await ack(worker, 'ci', -1)).statusCode, 400);
  });
}
