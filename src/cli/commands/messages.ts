import type { Command } from 'commander';
import { apiPath } from '../client.js';
import { badInput } from '../exit-codes.js';
import { parseWhole } from '../input.js';
import { action } from '../kit.js';

const MESSAGES = '/api/messages';

interface Listed {
  id: number;
  read_at: string | null;
}

export function registerMessages(program: Command): void {
  program
    .command('send <to_and_text...>')
    .description('send TEXT to instances (id or name), capability:X, workspace:W, * or human: send TO… TEXT')
    .option('--subject <text>', 'a subject line')
    .option('--thread <id>', 'reply in this thread')
    .option('--ack', 'ask the recipients to acknowledge it')
    .option('--high', 'mark it important')
    .action(action(async (cli, [variadic], o) => {
      // commander hands a variadic argument over as one array.
      const words = variadic as unknown as string[];
      if (words.length < 2) throw badInput('give at least one recipient and the text: send TO… TEXT');
      const to = words.slice(0, -1);
      const body = words[words.length - 1];
      cli.print(await cli.client.json('POST', MESSAGES, {
        json: { to, body, subject: o.subject, thread_id: o.thread, ack_required: o.ack ? true : undefined, importance: o.high ? 'high' : undefined },
      }));
    }));

  program
    .command('inbox')
    .description('your messages, newest first (reading marks nothing read unless --mark-read)')
    .option('--unread', 'only messages not marked read')
    .option('--wait <duration>', 'wait up to this long (e.g. 30s) for an unread message')
    .option('--mark-read', 'mark the unread messages listed as read')
    .option('--after <id>', 'only messages with a larger id')
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--instance <id>', "admin: another instance's inbox")
    .action(action(async (cli, _args, o) => {
      const query = {
        unread: o.unread ? 1 : undefined,
        wait: o.wait,
        after: parseWhole(o.after, '--after'),
        limit: parseWhole(o.limit, '--limit', 1),
        instance: o.instance,
      };
      const messages = await cli.client.json<Listed[]>('GET', `${MESSAGES}/inbox`, { query });
      cli.print(messages);
      if (o.markRead) {
        for (const message of messages) {
          if (message.read_at === null) await cli.client.json('POST', apiPath(MESSAGES, String(message.id), 'read'));
        }
      }
    }));

  program
    .command('ack <id>')
    .description('acknowledge a message (also marks it read)')
    .action(action(async (cli, [id]) => {
      const n = parseWhole(id, 'ID', 1)!;
      cli.print(await cli.client.json('POST', apiPath(MESSAGES, String(n), 'ack')));
    }));

  program
    .command('thread <id>')
    .description('a whole thread, oldest first, with who read and acknowledged what')
    .action(action(async (cli, [id]) => cli.print(await cli.client.json('GET', apiPath(MESSAGES, 'threads', id!)))));
}
