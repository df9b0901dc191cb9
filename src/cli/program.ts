import { Command } from 'commander';
import { printError } from './output.js';
import { registerBackup } from './commands/backup.js';
import { registerCompletion } from './commands/completion.js';
import { registerConfig } from './commands/config.js';
import { registerEvents } from './commands/events.js';
import { registerHooks } from './commands/hooks.js';
import { registerInstances } from './commands/instances.js';
import { registerLeases } from './commands/leases.js';
import { registerMessages } from './commands/messages.js';
import { registerObserve } from './commands/observe.js';
import { registerRules } from './commands/rules.js';
import { registerSpecs } from './commands/specs.js';
import { registerState } from './commands/state.js';

type Register = (program: Command) => void;

/** Top-level command names and the module that registers them. */
const GROUPS: Array<[names: string[], register: Register]> = [
  [['config', 'status'], registerConfig],
  [['state'], registerState],
  [['specs', 'contract'], registerSpecs],
  [['events', 'webhooks'], registerEvents],
  [['register', 'activate', 'heartbeat', 'intent', 'deregister', 'instances'], registerInstances],
  [['lease'], registerLeases],
  [['send', 'inbox', 'ack', 'thread'], registerMessages],
  [['rules', 'validate', 'compliance', 'templates'], registerRules],
  [['audit', 'metrics', 'llm', 'projects'], registerObserve],
  [['backup', 'restore'], registerBackup],
  [['hook', 'guard'], registerHooks],
];

/**
 * The command tree. Building all of it costs a noticeable part of a run, so when `argv` names
 * a command only that command's group is built; help, completion and unknown commands get the
 * whole tree. Settings are read only when a command runs.
 */
export function buildProgram(argv?: string[]): Command {
  const program = new Command('koor-cli')
    .description('Koor data-plane client: state, specs, events, instances, rules and more over REST')
    .option('--pretty', 'indent JSON output')
    .option('--as-admin', "act as the person, not this workspace's agent (.koor/token.env is not sent): for admin commands")
    .addHelpText(
      'after',
      '\nSettings: settings.json {server} and .koor/token.env (the agent\'s identity) in this folder or $KOOR_WORKSPACE,\n' +
        'overridden by KOOR_SERVER / KOOR_TOKEN / KOOR_INSTANCE_ID.\n' +
        'Exit codes: 0 ok, 1 server error, 2 bad input, 3 not found, 4 conflict/precondition,\n' +
        '5 auth, 6 server unreachable, 7 check found problems.',
    )
    // Set before the subcommands are added, so they inherit it.
    .exitOverride()
    .configureOutput({ writeErr: printError, outputError: (text, write) => write(text.replace(/^error: /, 'koor-cli: ')) });

  const word = argv?.slice(2).find((arg) => !arg.startsWith('-'));
  const only = GROUPS.find(([names]) => word !== undefined && names.includes(word));
  for (const [, register] of only ? [only] : GROUPS) register(program);
  if (!only) registerCompletion(program);
  return program;
}
