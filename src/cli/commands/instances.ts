import type { Command } from 'commander';
import { apiPath } from '../client.js';
import { badInput } from '../exit-codes.js';
import { splitList } from '../input.js';
import { action, type Cli } from '../kit.js';
import { clearIdentity, IDENTITY_FILE, readIdentity, writeIdentity } from '../identity-file.js';
import { readSettings, updateSettings, workspaceDir } from '../settings.js';

const INSTANCES = '/api/instances';

/** The instance a command is about: the one given, else the one `register` saved. */
function instanceId(cli: Cli, given: string | undefined): string {
  const id = given ?? cli.connection.instanceId;
  if (!id) throw badInput('no instance id: give one, or run `koor-cli register NAME` first');
  return id;
}

export function registerInstances(program: Command): void {
  program
    .command('register <name>')
    .description(`register this agent; saves its id and token to ${IDENTITY_FILE} so later commands act as it`)
    .option('--workspace <workspace>', 'workspace or repo')
    .option('--intent <intent>', 'what it is working on')
    .option('--stack <stack>', 'e.g. go-api, react')
    .option('--capabilities <list>', 'comma-separated capabilities')
    .option('--base-url <url>', 'where its service runs (for contract compliance checks)')
    .action(action(async (cli, [name], o) => {
      const registered = await cli.client.json<{ id?: string; token?: string }>('POST', `${INSTANCES}/register`, {
        json: {
          name,
          workspace: o.workspace,
          intent: o.intent,
          stack: o.stack,
          capabilities: splitList(o.capabilities),
          base_url: o.baseUrl,
        },
      });
      if (registered.id && registered.token) {
        writeIdentity(workspaceDir(), { instanceId: registered.id, token: registered.token, name: name!, project: o.workspace });
      }
      cli.print(registered);
    }));

  program
    .command('activate [id]')
    .description('mark an instance active (default: the registered one)')
    .action(action(async (cli, [id]) => cli.print(await cli.client.json('POST', apiPath(INSTANCES, instanceId(cli, id), 'activate')))));

  program
    .command('heartbeat [id]')
    .description('tell the server an instance is alive (default: the registered one)')
    .action(action(async (cli, [id]) => cli.print(await cli.client.json('POST', apiPath(INSTANCES, instanceId(cli, id), 'heartbeat')))));

  program
    .command('intent <text>')
    .description('say what this agent is working on now (also a heartbeat)')
    .option('--instance <id>', 'another instance than the registered one')
    .action(action(async (cli, [text], o) => {
      cli.print(await cli.client.json('POST', apiPath(INSTANCES, instanceId(cli, o.instance), 'intent'), { json: { intent: text } }));
    }));

  program
    .command('deregister [id]')
    .description('remove an instance (default: the registered one, also forgotten locally)')
    .action(action(async (cli, [id]) => {
      const target = instanceId(cli, id);
      const answer = await cli.client.json('DELETE', apiPath(INSTANCES, target));
      if (readIdentity(workspaceDir()).instanceId === target) clearIdentity(workspaceDir());
      if (readSettings().instance_id === target) updateSettings({ instance_id: undefined, instance_token: undefined });
      cli.print(answer);
    }));

  const instances = program.command('instances').description('registered agents');

  instances
    .command('list')
    .description('list instances')
    .option('--name <name>', 'filter by name')
    .option('--workspace <workspace>', 'filter by workspace')
    .option('--stack <stack>', 'filter by stack')
    .option('--capability <capability>', 'filter by capability')
    .option('--status <status>', 'pending, active or stale')
    .action(action(async (cli, _args, o) => {
      const query = { name: o.name, workspace: o.workspace, stack: o.stack, capability: o.capability, status: o.status };
      cli.print(await cli.client.json('GET', INSTANCES, { query }));
    }));

  instances
    .command('get <id>')
    .description('one instance')
    .action(action(async (cli, [id]) => cli.print(await cli.client.json('GET', apiPath(INSTANCES, id!)))));

  instances
    .command('stale')
    .description('instances that stopped reporting')
    .action(action(async (cli) => cli.print(await cli.client.json('GET', `${INSTANCES}/stale`))));
}
