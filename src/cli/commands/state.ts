import type { Command } from 'commander';
import { apiPath } from '../client.js';
import { checkJsonValue, parseWhole, readValue } from '../input.js';
import { action } from '../kit.js';
import { ifMatchHeader, readVersioned } from '../versioned-read.js';

const STATE = '/api/state';

export function registerState(program: Command): void {
  const state = program.command('state').description('versioned key/value store');

  state
    .command('list')
    .description('list keys with their versions')
    .option('--prefix <prefix>', 'only keys starting with this')
    .action(action(async (cli, _args, o) => cli.print(await cli.client.json('GET', STATE, { query: { prefix: o.prefix } }))));

  state
    .command('get <key>')
    .description('print a value as stored')
    .option('--version <n>', 'an older version')
    .option('--if-changed', 'print "unchanged (vN)" if the value is the one last fetched with --if-changed')
    .option('--field <path>', 'print one field of a JSON value (a.b.0.c; strings unquoted)')
    .action(action((cli, [key], o) => readVersioned(cli, STATE, key!, o)));

  state
    .command('set <key>')
    .description('write a new version (value from --data, --file or stdin)')
    .option('--data <value>', 'the value')
    .option('--file <path>', 'read the value from a file')
    .option('--content-type <type>', 'content type to store', 'application/json')
    .option('--if-match <version|etag>', 'only if the current version or ETag is this one (else exit 4)')
    .option('--create-only', 'only if the key does not exist yet (else exit 4)')
    .option('--lease <id>', 'only while you hold this lease (else exit 4)')
    .action(action(async (cli, [key], o) => {
      const body = await readValue(o);
      checkJsonValue(body, o.contentType, o);
      const headers: Record<string, string> = { 'content-type': o.contentType };
      if (o.ifMatch !== undefined) headers['if-match'] = ifMatchHeader(o.ifMatch);
      if (o.createOnly) headers['if-none-match'] = '*';
      if (o.lease !== undefined) headers['x-koor-lease'] = o.lease;
      cli.print(await cli.client.json('PUT', apiPath(STATE, key!), { body, headers }));
    }));

  state
    .command('delete <key>')
    .description('delete a key (its history is kept)')
    .option('--if-match <version|etag>', 'only if the current version or ETag is this one (else exit 4)')
    .option('--lease <id>', 'only while you hold this lease (else exit 4)')
    .action(action(async (cli, [key], o) => {
      const headers: Record<string, string> = o.ifMatch !== undefined ? { 'if-match': ifMatchHeader(o.ifMatch) } : {};
      if (o.lease !== undefined) headers['x-koor-lease'] = o.lease;
      cli.print(await cli.client.json('DELETE', apiPath(STATE, key!), { headers }));
    }));

  state
    .command('history <key>')
    .description('list versions, newest first')
    .option('--limit <n>', 'at most this many versions')
    .action(action(async (cli, [key], o) => {
      const limit = parseWhole(o.limit, '--limit', 1);
      cli.print(await cli.client.json('GET', apiPath(STATE, key!), { query: { history: 1, limit } }));
    }));

  state
    .command('rollback <key> <version>')
    .description('restore an old version as a new version')
    .action(action(async (cli, [key, version]) => {
      const n = parseWhole(version, 'VERSION', 1);
      cli.print(await cli.client.json('POST', apiPath(STATE, key!), { query: { rollback: n } }));
    }));

  state
    .command('diff <key>')
    .description('JSON diff between two versions')
    .requiredOption('--v1 <a>', 'first version')
    .requiredOption('--v2 <b>', 'second version')
    .action(action(async (cli, [key], o) => {
      const v1 = parseWhole(o.v1, '--v1', 1);
      const v2 = parseWhole(o.v2, '--v2', 1);
      cli.print(await cli.client.json('GET', apiPath(STATE, key!), { query: { diff: `${v1},${v2}` } }));
    }));
}
