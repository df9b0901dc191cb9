import type { Command } from 'commander';
import { badInput } from '../exit-codes.js';
import { parseWhole } from '../input.js';
import { action } from '../kit.js';

export function registerObserve(program: Command): void {
  const audit = program.command('audit').description('the append-only audit log');

  audit
    .command('list', { isDefault: true })
    .description('audit entries, newest first (the default: `koor-cli audit --actor X`)')
    .option('--actor <actor>', 'instance id, admin or anonymous')
    .option('--action <action>', 'e.g. state.put')
    .option('--from <time>', 'RFC 3339 start time')
    .option('--to <time>', 'RFC 3339 end time')
    .option('--limit <n>', 'at most this many (server default 50)')
    .action(action(async (cli, _args, o) => {
      const query = { actor: o.actor, action: o.action, from: o.from, to: o.to, limit: parseWhole(o.limit, '--limit', 1) };
      cli.print(await cli.client.json('GET', '/api/audit', { query }));
    }));

  audit
    .command('summary')
    .description('counts by action and outcome')
    .option('--from <time>', 'RFC 3339 start time')
    .option('--to <time>', 'RFC 3339 end time')
    .action(action(async (cli, _args, o) => cli.print(await cli.client.json('GET', '/api/audit/summary', { query: { from: o.from, to: o.to } }))));

  const metrics = program.command('metrics').description('server and agent metrics');

  metrics
    .command('server', { isDefault: true })
    .description('server metrics and token-tax savings (the default: `koor-cli metrics`)')
    .action(action(async (cli) => cli.print(await cli.client.json('GET', '/api/metrics'))));

  metrics
    .command('agents')
    .description('per-agent counters in hourly buckets')
    .option('--instance <id>', 'rows of one instance')
    .option('--period <period>', 'hour bucket like 2026-02-16T14')
    .action(action(async (cli, _args, o) => {
      cli.print(await cli.client.json('GET', '/api/metrics/agents', { query: { instance_id: o.instance, period: o.period } }));
    }));

  program
    .command('projects')
    .description('projects that have specs or rules, with their counts')
    .action(action(async (cli) => cli.print(await cli.client.json('GET', '/api/projects'))));

  const llm = program.command('llm').description('LLM token usage and cost');

  llm
    .command('record')
    .description('record one LLM call (tokens and cost) for this agent')
    .requiredOption('--provider <provider>', 'e.g. anthropic, openai')
    .requiredOption('--model <model>', 'e.g. claude-sonnet')
    .option('--tokens-in <n>', 'input tokens')
    .option('--tokens-out <n>', 'output tokens')
    .option('--cost-usd <usd>', 'cost in US dollars, e.g. 0.012')
    .option('--project <project>', 'project to charge it to')
    .option('--session-tag <tag>', 'a tag grouping the calls of one session')
    .option('--request-type <type>', 'completion (default), embedding, …')
    .option('--instance <id>', 'the instance that made the call (default: this agent)')
    .action(action(async (cli, _args, o) => {
      let cost: number | undefined;
      if (o.costUsd !== undefined) {
        cost = Number(o.costUsd);
        if (!/^\s*\d+(\.\d+)?\s*$/.test(o.costUsd) || !Number.isFinite(cost)) throw badInput(`--cost-usd must be a number of dollars like 0.012, got "${o.costUsd}"`);
      }
      const body = {
        provider: o.provider,
        model: o.model,
        instance_id: o.instance ?? cli.connection.instanceId,
        project: o.project,
        tokens_in: parseWhole(o.tokensIn, '--tokens-in'),
        tokens_out: parseWhole(o.tokensOut, '--tokens-out'),
        cost_usd: cost,
        request_type: o.requestType,
        session_tag: o.sessionTag,
      };
      cli.print(await cli.client.json('POST', '/api/llm/usage', { json: body }));
    }));

  llm
    .command('usage')
    .description('recorded LLM calls, newest first')
    .option('--instance <id>', 'only this instance')
    .option('--project <project>', 'only this project')
    .option('--session-tag <tag>', 'only this session tag')
    .option('--from <time>', 'RFC 3339 start time')
    .option('--to <time>', 'RFC 3339 end time')
    .option('--limit <n>', 'at most this many (server default 50)')
    .action(action(async (cli, _args, o) => {
      const query = {
        instance: o.instance,
        project: o.project,
        session_tag: o.sessionTag,
        from: o.from,
        to: o.to,
        limit: parseWhole(o.limit, '--limit', 1),
      };
      cli.print(await cli.client.json('GET', '/api/llm/usage', { query }));
    }));

  llm
    .command('summary')
    .description('totals grouped by project, instance, model or session_tag')
    .option('--group-by <field>', 'project, instance, model or session_tag', 'project')
    .option('--from <time>', 'RFC 3339 start time')
    .option('--to <time>', 'RFC 3339 end time')
    .action(action(async (cli, _args, o) => {
      cli.print(await cli.client.json('GET', '/api/llm/usage/summary', { query: { group_by: o.groupBy, from: o.from, to: o.to } }));
    }));
}
