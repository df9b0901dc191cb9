import type { Command } from 'commander';
import { badInput } from '../exit-codes.js';
import { action } from '../kit.js';
import { printJson } from '../output.js';
import { SETTINGS_FILE, updateSettings } from '../settings.js';

const CONFIG_KEYS = ['server', 'token'] as const;

export function registerConfig(program: Command): void {
  const config = program.command('config').description(`CLI settings in ./${SETTINGS_FILE}`);

  config
    .command('set <key> <value>')
    .description('set server or token')
    .action((key: string, value: string, _options: unknown, command: Command) => {
      if (!(CONFIG_KEYS as readonly string[]).includes(key)) throw badInput(`unknown setting "${key}": expected server or token`);
      if (key === 'server' && !/^https?:\/\/[^/]/.test(value)) throw badInput(`invalid server "${value}": expected something like http://localhost:9800`);
      updateSettings({ [key]: key === 'server' ? value.replace(/\/+$/, '') : value });
      printJson({ [key]: key === 'token' ? '(set)' : value, file: SETTINGS_FILE }, Boolean(command.optsWithGlobals().pretty));
    });

  config
    .command('show')
    .description('the settings in effect (tokens hidden)')
    .action(action((cli) => {
      const { server, token, instanceId, instanceToken } = cli.connection;
      const hidden = (value?: string) => (value ? '(set)' : null);
      cli.print({ server, token: hidden(token), instance_id: instanceId ?? null, instance_token: hidden(instanceToken), file: SETTINGS_FILE });
    }));

  program
    .command('status')
    .description('is the server up: health and a metrics summary')
    .action(action(async (cli) => {
      const health = await cli.client.json<Record<string, unknown>>('GET', '/health');
      const metrics = await cli.client.json<Record<string, unknown>>('GET', '/api/metrics');
      // Health last: its status and version are the ones to show.
      cli.print({ server: cli.connection.server, ...metrics, ...health });
    }));
}
