import type { Command } from 'commander';
import { apiPath } from '../client.js';
import { parseJson, parseWhole, splitList } from '../input.js';
import { action } from '../kit.js';

export function registerEvents(program: Command): void {
  const events = program.command('events').description('event bus');

  events
    .command('publish <topic>')
    .description('publish an event')
    .option('--data <json>', 'event data (JSON)')
    .option('--source <source>', 'who published it (default: this instance)')
    .action(action(async (cli, [topic], o) => {
      const data = o.data !== undefined ? parseJson(o.data, '--data') : undefined;
      cli.print(await cli.client.json('POST', '/api/events/publish', { json: { topic, data, source: o.source } }));
    }));

  events
    .command('history')
    .description('stored events, newest first (oldest first with --after)')
    .option('--last <n>', 'at most this many events (server default 50)')
    .option('--topic <pattern>', 'topic glob (api.*, api.ch*, build.?, *)')
    .option('--from <time>', 'RFC 3339 start time')
    .option('--to <time>', 'RFC 3339 end time')
    .option('--source <source>', 'only events from this source')
    .option('--after <id>', 'events with a larger id, oldest first')
    .action(action(async (cli, _args, o) => {
      const query = {
        last: parseWhole(o.last, '--last', 1),
        after: parseWhole(o.after, '--after'),
        topic: o.topic,
        from: o.from,
        to: o.to,
        source: o.source,
      };
      cli.print(await cli.client.json('GET', '/api/events/history', { query }));
    }));

  events
    .command('subscribe [pattern]')
    .description('stream events as JSON lines; reconnects and resumes after the last one printed')
    .option('--after <id>', 'first replay stored events after this id')
    .option('--max <n>', 'exit after printing this many events')
    .option('--durable <name>', 'a named consumer whose cursor the server keeps: started again, it goes on where it stopped')
    .action(action(async (cli, [pattern], o) => {
      const after = parseWhole(o.after, '--after');
      const max = parseWhole(o.max, '--max', 1);
      if (o.durable !== undefined) {
        const { subscribeDurable } = await import('../durable.js');
        await subscribeDurable(cli, pattern ?? '*', o.durable, { after, max });
        return;
      }
      const { subscribeEvents } = await import('../subscribe.js');
      await subscribeEvents(cli, pattern ?? '*', { after, max });
    }));

  const webhooks = program.command('webhooks').description('HTTP callbacks for events');

  webhooks
    .command('list')
    .description('list webhooks')
    .action(action(async (cli) => cli.print(await cli.client.json('GET', '/api/webhooks'))));

  webhooks
    .command('add <id> <url>')
    .description('add a webhook')
    .option('--patterns <list>', 'comma-separated topic patterns (default *)')
    .option('--secret <secret>', 'HMAC secret for X-Koor-Signature')
    .action(action(async (cli, [id, url], o) => {
      cli.print(await cli.client.json('POST', '/api/webhooks', { json: { id, url, patterns: splitList(o.patterns), secret: o.secret } }));
    }));

  webhooks
    .command('delete <id>')
    .description('delete a webhook')
    .action(action(async (cli, [id]) => cli.print(await cli.client.json('DELETE', apiPath('/api/webhooks', id!)))));

  webhooks
    .command('test <id>')
    .description('send a webhook.test event now')
    .action(action(async (cli, [id]) => cli.print(await cli.client.json('POST', apiPath('/api/webhooks', id!, 'test')))));
}
