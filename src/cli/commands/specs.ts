import type { Command } from 'commander';
import { apiPath } from '../client.js';
import { badInput } from '../exit-codes.js';
import { checkJsonValue, parseJson, readValue } from '../input.js';
import { action, failUnless, type Cli } from '../kit.js';
import { readVersioned } from '../versioned-read.js';

const SPECS = '/api/specs';

async function putSpec(cli: Cli, project: string, name: string, o: { data?: string; file?: string; contentType?: string; lease?: string }) {
  const body = await readValue(o);
  const contentType = o.contentType ?? 'application/json';
  checkJsonValue(body, contentType, o);
  const headers: Record<string, string> = { 'content-type': contentType };
  if (o.lease !== undefined) headers['x-koor-lease'] = o.lease;
  return cli.client.json('PUT', apiPath(SPECS, project, name), { body, headers });
}

export function registerSpecs(program: Command): void {
  const specs = program.command('specs').description('per-project named documents');

  specs
    .command('list <project>')
    .description("list a project's specs")
    .action(action(async (cli, [project]) => cli.print(await cli.client.json('GET', apiPath(SPECS, project!)))));

  specs
    .command('get <project> <name>')
    .description('print a spec as stored')
    .option('--version <n>', 'an older version')
    .option('--if-changed', 'print "unchanged (vN)" if the spec is the one last fetched with --if-changed')
    .option('--field <path>', 'print one field of a JSON spec')
    .action(action((cli, [project, name], o) => readVersioned(cli, SPECS, `${project}/${name}`, o)));

  specs
    .command('set <project> <name>')
    .description('write a spec (from --data, --file or stdin)')
    .option('--data <value>', 'the document')
    .option('--file <path>', 'read the document from a file')
    .option('--content-type <type>', 'content type to store', 'application/json')
    .option('--lease <id>', 'only while you hold this lease (else exit 4)')
    .action(action(async (cli, [project, name], o) => cli.print(await putSpec(cli, project!, name!, o))));

  specs
    .command('delete <project> <name>')
    .description('delete a spec')
    .action(action(async (cli, [project, name]) => cli.print(await cli.client.json('DELETE', apiPath(SPECS, project!, name!)))));

  const contract = program.command('contract').description('API contracts (specs with "kind":"contract")');

  contract
    .command('set <project> <name>')
    .description('store a contract (from --file, --data or stdin)')
    .option('--file <path>', 'the contract JSON file')
    .option('--data <json>', 'the contract JSON')
    .action(action(async (cli, [project, name], o) => cli.print(await putSpec(cli, project!, name!, o))));

  contract
    .command('get <project> <name>')
    .description('print a contract')
    .option('--field <path>', 'print one field (e.g. endpoints)')
    .action(action((cli, [project, name], o) => readVersioned(cli, SPECS, `${project}/${name}`, o)));

  contract
    .command('validate <project> <name>')
    .description('check a payload against an endpoint of the contract (exit 7 if invalid)')
    .requiredOption('--endpoint <endpoint>', 'e.g. "POST /api/orders"')
    .option('--direction <direction>', 'request, response, query or error', 'request')
    .option('--data <json>', 'the payload')
    .option('--file <path>', 'read the payload from a file')
    .action(action(async (cli, [project, name], o) => {
      const payload = parseJson(await readValue(o), o.file !== undefined ? '--file' : o.data !== undefined ? '--data' : 'stdin');
      const result = await cli.client.json<{ valid?: boolean }>('POST', apiPath('/api/contracts', project!, name!, 'validate'), {
        json: { endpoint: o.endpoint, direction: o.direction, payload },
      });
      cli.print(result);
      failUnless(result.valid !== false, `payload does not match ${o.endpoint} (${o.direction})`);
    }));

  contract
    .command('test <project> <name>')
    .description('call a live service and check it against the contract (exit 7 if it does not match)')
    .option('--endpoint <endpoint>', 'e.g. "GET /api/orders" (default: every endpoint of the contract)')
    .requiredOption('--base-url <url>', 'where the service runs, e.g. http://localhost:8080')
    .option('--data <json>', 'request body to send (test_data)')
    .action(action(async (cli, [project, name], o) => {
      const testData = o.data !== undefined ? parseJson(o.data, '--data') : undefined;
      const endpoints: string[] = o.endpoint !== undefined ? [o.endpoint] : await contractEndpoints(cli, project!, name!);
      const results: LiveTest[] = [];
      for (const endpoint of endpoints) {
        results.push(await cli.client.json<LiveTest>('POST', apiPath('/api/contracts', project!, name!, 'test'), {
          json: { endpoint, base_url: o.baseUrl, ...(testData !== undefined ? { test_data: testData } : {}) },
        }));
      }
      if (o.endpoint !== undefined) {
        cli.print(results[0]);
        failUnless(results[0]!.valid !== false, `${o.endpoint} at ${o.baseUrl} does not match the contract`);
        return;
      }
      const failed = results.filter((r) => r.valid === false).length;
      cli.print({ valid: failed === 0, passed: results.length - failed, failed, results });
      failUnless(failed === 0, `${failed} of ${results.length} endpoints at ${o.baseUrl} do not match the contract`);
    }));
}

interface LiveTest {
  valid?: boolean;
}

/** The endpoint keys of a stored contract, in order, for testing all of them. */
async function contractEndpoints(cli: Cli, project: string, name: string): Promise<string[]> {
  const contract = await cli.client.json<{ kind?: unknown; endpoints?: unknown }>('GET', apiPath(SPECS, project, name));
  if (contract?.kind !== 'contract' || !contract.endpoints || typeof contract.endpoints !== 'object') {
    throw badInput(`spec ${project}/${name} is not a contract with endpoints`);
  }
  const keys = Object.keys(contract.endpoints);
  if (keys.length === 0) throw badInput(`contract ${project}/${name} has no endpoints`);
  return keys.sort();
}
