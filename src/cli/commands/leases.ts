import type { Command } from 'commander';
import { apiPath, type Reply } from '../client.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { action, type Cli } from '../kit.js';

const LEASES = '/api/leases';

interface LeaseAnswer {
  id: string;
  holder: string;
}

/** Who the caller holds leases as: its registered instance, else the admin or anonymous person. */
function ownHolder(cli: Cli): string {
  return cli.connection.instanceId ?? (cli.connection.token ? 'admin' : 'anonymous');
}

/** A 409 as one line: the server's message names holders, reasons and expiry (the list would repeat it). */
function conflictFailure(reply: Reply): CliError {
  let message = `HTTP ${reply.status}`;
  try {
    message = (JSON.parse(reply.body.toString('utf8')) as { error?: string }).error ?? message;
  } catch {
    // not JSON: the status says enough
  }
  return new CliError(message, ExitCode.conflict);
}

export function registerLeases(program: Command): void {
  const lease = program.command('lease').description('claims on files and tasks, so that two agents never change the same thing');

  lease
    .command('acquire <resources...>')
    .description('claim paths, globs (src/api/**) or names (task:42), all or none; exit 4 naming the holder when taken')
    .option('--ttl <duration>', 'how long it lasts unless renewed (default 15m, at most 24h)')
    .option('--shared', 'a shared claim: only exclusive ones conflict with it')
    .option('--wait <duration>', 'wait up to this long (e.g. 30s) for the holders to let go')
    .option('--reason <text>', 'what you are about to do, shown to whoever it stops')
    .option('--project <project>', 'leases only conflict within one project')
    .action(action(async (cli, [variadic], o) => {
      // commander hands a variadic argument over as one array.
      const resources = variadic as unknown as string[];
      const reply = await cli.client.send('POST', LEASES, {
        query: { wait: o.wait },
        json: { resources, mode: o.shared ? 'shared' : undefined, ttl: o.ttl, reason: o.reason, project: o.project },
        accept: [409],
      });
      if (reply.status === 409) throw conflictFailure(reply);
      cli.print(JSON.parse(reply.body.toString('utf8')));
    }));

  lease
    .command('renew <id>')
    .description('extend a lease by its TTL (or --ttl) from now')
    .option('--ttl <duration>', 'new time to live')
    .action(action(async (cli, [id], o) => {
      cli.print(await cli.client.json('POST', apiPath(LEASES, id!, 'renew'), { json: { ttl: o.ttl } }));
    }));

  lease
    .command('release [id]')
    .description('release a lease, or all of your own with --all')
    .option('--all', 'every lease you hold')
    .action(action(async (cli, [id], o) => {
      if (o.all && id) throw new CliError('give a lease id or --all, not both', ExitCode.badInput);
      if (!o.all) {
        if (!id) throw new CliError('give a lease id, or --all', ExitCode.badInput);
        cli.print(await cli.client.json('DELETE', apiPath(LEASES, id)));
        return;
      }
      const mine = await cli.client.json<LeaseAnswer[]>('GET', LEASES, { query: { holder: ownHolder(cli) } });
      const released: string[] = [];
      for (const held of mine) {
        // One that ran out meanwhile is released already.
        const reply = await cli.client.send('DELETE', apiPath(LEASES, held.id), { accept: [404] });
        if (reply.status !== 404) released.push(held.id);
      }
      cli.print({ released });
    }));

  lease
    .command('list')
    .description('active leases, oldest first')
    .option('--mine', 'only your own')
    .option('--holder <id>', 'only this holder (instance id)')
    .option('--project <project>', 'only this project')
    .option('--resource <path>', 'only those covering this path')
    .action(action(async (cli, _args, o) => {
      const holder = o.mine ? ownHolder(cli) : o.holder;
      cli.print(await cli.client.json('GET', LEASES, { query: { holder, project: o.project, resource: o.resource } }));
    }));

  lease
    .command('check <paths...>')
    .description("whether other agents' leases cover these paths; exit 4 naming the holder if so")
    .option('--project <project>', 'the project the paths belong to')
    .action(action(async (cli, [variadic], o) => {
      const paths = variadic as unknown as string[];
      const answer = await cli.client.json<{ conflicts: Array<{ holder_name: string }> }>('POST', `${LEASES}/check`, { json: { paths, project: o.project } });
      cli.print(answer);
      if (answer.conflicts.length > 0) {
        const first = answer.conflicts[0] as { holder_name: string; resources: string[]; expires_at: string; reason: string; intent: string };
        const why = first.reason || first.intent;
        const more = answer.conflicts.length > 1 ? ` and ${answer.conflicts.length - 1} more` : '';
        throw new CliError(
          `${first.resources.join(', ')} held by ${first.holder_name} until ${first.expires_at}${why ? ` (${why})` : ''}${more}`,
          ExitCode.conflict,
        );
      }
    }));
}
