import { sql } from 'kysely';
import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest, HttpError, notFound } from '../kernel/errors.js';
import { optionalText } from '../kernel/text.js';
import type { KoorEvent } from '../events/hub.js';
import { HUMAN, mailboxOf, resolveAddresses, senderOf } from './addresses.js';
import type { MessageRecipientRow, MessageRow } from './tables.js';
import './tables.js';

/** Audit actions of the messages domain. */
export const MESSAGE_SEND = 'message.send';
export const MESSAGE_READ = 'message.read';
export const MESSAGE_ACK = 'message.ack';

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_SUBJECT_LENGTH = 200;
export const MAX_THREAD_ID_LENGTH = 200;
export const DEFAULT_INBOX_LIMIT = 50;
export const MAX_INBOX_LIMIT = 500;
const MAX_THREAD = 1000;

export const IMPORTANCE = ['normal', 'high'] as const;
export type Importance = (typeof IMPORTANCE)[number];

// SendInput, Sent, Message, Receipt and ThreadMessage are the static types of the route
// schemas (schemas.ts).
import type { Message, Receipt, SendInput, Sent, ThreadMessage } from './schemas.js';
export type { Message, Receipt, SendInput, Sent, ThreadMessage };

export interface InboxQuery {
  /** Admin only: another mailbox than the caller's own. */
  instance?: string;
  unread?: boolean;
  after?: number;
  limit?: number;
}

/** The `message.sent` event's data: never the body. */
export interface SentNotice {
  id: number;
  from: string;
  to: string[];
  subject: string;
}

/** The admin (the server token, or anyone without a token in local mode) may read any mailbox. */
const actsAsAdmin = (actor: Actor) => actor.role === 'admin';

function checkBody(body: unknown): string {
  if (body === undefined || body === null || body === '') throw badRequest('body is required: text or a JSON value');
  const json = JSON.stringify(body);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_BODY_BYTES) throw badRequest(`body is ${bytes} bytes as JSON; the limit is 64 KB`);
  return json;
}

/** Sends a message (one row, one receipt row per recipient) and announces `message.sent`. */
export async function sendMessage(ctx: AppContext, input: SendInput, actor: Actor): Promise<Sent> {
  const body = checkBody(input.body);
  const subject = optionalText('subject', input.subject, MAX_SUBJECT_LENGTH);
  const threadId = optionalText('thread_id', input.thread_id, MAX_THREAD_ID_LENGTH).trim();
  const importance = input.importance ?? 'normal';
  if (!IMPORTANCE.includes(importance)) throw badRequest(`invalid importance "${String(importance)}": expected normal or high`);
  const sender = await senderOf(ctx, actor);
  const recipients = await resolveAddresses(ctx, input.to, sender);
  return ctx.commit(async (trx) => {
    const createdAt = new Date().toISOString();
    const row = await trx
      .insertInto('messages')
      .values({
        thread_id: threadId,
        sender: sender.id,
        sender_name: sender.name,
        subject,
        body,
        importance,
        ack_required: input.ack_required ? 1 : 0,
        created_at: createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(row.id);
    // A message that starts a thread names it after itself.
    const thread = threadId || String(id);
    if (!threadId) await trx.updateTable('messages').set({ thread_id: thread }).where('id', '=', id).execute();
    await trx
      .insertInto('message_recipients')
      .values(recipients.map((r) => ({ message_id: id, recipient: r.id, recipient_name: r.name, read_at: null, acked_at: null })))
      .execute();
    const to = recipients.map((r) => r.id);
    const notice: SentNotice = { id, from: sender.id, to, subject };
    return {
      value: { id, thread_id: thread, recipients: to, created_at: createdAt },
      audit: { actor: actor.id, action: MESSAGE_SEND, resource: String(id), detail: `to ${recipients.map((r) => r.name).join(', ')}`.slice(0, 1000) },
      events: [{ topic: 'message.sent', data: notice, source: actor.instanceId ?? '' }],
    };
  });
}

type Joined = Omit<MessageRow, 'id'> & { id: number; read_at: string | null; acked_at: string | null };

function toMessage(row: Joined): Message {
  return {
    id: Number(row.id),
    thread_id: row.thread_id,
    from: row.sender,
    from_name: row.sender_name,
    subject: row.subject,
    body: JSON.parse(row.body),
    importance: row.importance as Importance,
    ack_required: row.ack_required === 1,
    created_at: row.created_at,
    read_at: row.read_at ?? null,
    acked_at: row.acked_at ?? null,
  };
}

/** The mailbox a request reads: the caller's own, or (admin only) the one asked for. */
export function inboxOwner(actor: Actor, instance: string | undefined): string {
  const own = mailboxOf(actor);
  if (instance === undefined || instance === '' || instance === own) return own;
  if (!actsAsAdmin(actor)) throw new HttpError(403, `an agent reads only its own inbox, not ${instance}'s`);
  return instance;
}

/** The mailbox's messages, newest first. Reading marks nothing read. */
export async function readInbox(ctx: AppContext, owner: string, query: InboxQuery = {}): Promise<Message[]> {
  const limit = Math.min(query.limit ?? DEFAULT_INBOX_LIMIT, MAX_INBOX_LIMIT);
  let select = ctx.db.query
    .selectFrom('message_recipients as r')
    .innerJoin('messages as m', 'm.id', 'r.message_id')
    .select(['m.id', 'm.thread_id', 'm.sender', 'm.sender_name', 'm.subject', 'm.body', 'm.importance', 'm.ack_required', 'm.created_at', 'r.read_at', 'r.acked_at'])
    .where('r.recipient', '=', owner);
  if (query.unread) select = select.where('r.read_at', 'is', null);
  if (query.after !== undefined) select = select.where('r.message_id', '>', query.after);
  const rows = await select.orderBy('r.message_id', 'desc').limit(limit).execute();
  return rows.map((row) => toMessage(row as Joined));
}

/** Whether a committed event tells of a message to this mailbox (wakes a waiting inbox read). */
export function isMessageFor(event: KoorEvent, owner: string): boolean {
  if (event.topic !== 'message.sent') return false;
  const to = (event.data as Partial<SentNotice> | null)?.to;
  return Array.isArray(to) && to.includes(owner);
}

/** Unread messages per mailbox: every mailbox with some for the admin, the caller's own otherwise. */
export async function unreadCounts(ctx: AppContext, actor: Actor): Promise<Array<{ instance: string; name: string; unread: number }>> {
  let query = ctx.db.query
    .selectFrom('message_recipients')
    .select(['recipient', (eb) => eb.fn.max('recipient_name').as('name'), (eb) => eb.fn.countAll<number>().as('unread')])
    .where('read_at', 'is', null)
    .groupBy('recipient');
  const own = mailboxOf(actor);
  if (!actsAsAdmin(actor)) query = query.where('recipient', '=', own);
  const rows = await query.orderBy('recipient').execute();
  const counts = rows.map((row) => ({ instance: row.recipient, name: String(row.name ?? row.recipient), unread: Number(row.unread) }));
  if (!actsAsAdmin(actor) && counts.length === 0) counts.push({ instance: own, name: (await senderOf(ctx, actor)).name, unread: 0 });
  return counts;
}

type Receipted = { id: number; read_at: string | null; acked_at: string | null };

/**
 * Marks a message read (or acknowledged, which also marks it read) for the calling recipient.
 * The first time counts: marking again answers the time already recorded. 403 for anyone
 * who is not a recipient, 404 for a message that does not exist.
 */
export async function markMessage(ctx: AppContext, id: number, kind: 'read' | 'ack', actor: Actor): Promise<Receipted> {
  const mailbox = mailboxOf(actor);
  return ctx.commit(async (trx) => {
    const now = new Date().toISOString();
    const changes = kind === 'ack'
      ? { acked_at: sql<string>`coalesce(acked_at, ${now})`, read_at: sql<string>`coalesce(read_at, ${now})` }
      : { read_at: sql<string>`coalesce(read_at, ${now})` };
    const row = await trx
      .updateTable('message_recipients')
      .set(changes)
      .where('message_id', '=', id)
      .where('recipient', '=', mailbox)
      .returning(['read_at', 'acked_at'])
      .executeTakeFirst();
    if (!row) {
      const exists = await trx.selectFrom('messages').select('id').where('id', '=', id).executeTakeFirst();
      if (!exists) throw notFound('message', id);
      throw new HttpError(403, `message ${id} was not sent to ${mailbox === HUMAN ? HUMAN : 'the caller'}: only a recipient may mark it ${kind === 'ack' ? 'acknowledged' : 'read'}`);
    }
    return {
      value: { id, read_at: row.read_at, acked_at: row.acked_at },
      audit: { actor: actor.id, action: kind === 'ack' ? MESSAGE_ACK : MESSAGE_READ, resource: String(id) },
    };
  }, { emits: false });
}

/** The thread's messages the caller sent or received (the admin: all of them), oldest first. */
export async function readThread(ctx: AppContext, threadId: string, actor: Actor): Promise<{ thread_id: string; messages: ThreadMessage[] }> {
  const rows = await ctx.db.query.selectFrom('messages').selectAll().where('thread_id', '=', threadId).orderBy('id').limit(MAX_THREAD).execute();
  if (rows.length === 0) throw notFound('thread', threadId);
  const receipts = await ctx.db.query
    .selectFrom('message_recipients')
    .selectAll()
    .where('message_id', 'in', rows.map((r) => Number(r.id)))
    .execute();
  const byMessage = new Map<number, MessageRecipientRow[]>();
  for (const receipt of receipts) {
    const id = Number(receipt.message_id);
    byMessage.set(id, [...(byMessage.get(id) ?? []), receipt]);
  }
  const me = mailboxOf(actor);
  const all = actsAsAdmin(actor);
  const messages: ThreadMessage[] = [];
  for (const row of rows) {
    const id = Number(row.id);
    const to = byMessage.get(id) ?? [];
    const mine = to.find((r) => r.recipient === me);
    if (!all && row.sender !== me && !mine) continue;
    messages.push({
      ...toMessage({ ...row, id, read_at: mine?.read_at ?? null, acked_at: mine?.acked_at ?? null }),
      to: to.map((r) => ({ id: r.recipient, name: r.recipient_name, read_at: r.read_at, acked_at: r.acked_at })),
    });
  }
  if (messages.length === 0) throw notFound('thread', threadId);
  return { thread_id: threadId, messages };
}

/** Deletes messages older than the retention period (with their receipts). Returns how many. */
export async function pruneMessages(ctx: AppContext): Promise<number> {
  const cutoff = new Date(Date.now() - ctx.config.messageRetentionMs).toISOString();
  const old = await ctx.db.query.selectFrom('messages').select('id').where('created_at', '<', cutoff).limit(1).executeTakeFirst();
  if (!old) return 0;
  return ctx.commit(async (trx) => {
    const expired = trx.selectFrom('messages').select('id').where('created_at', '<', cutoff);
    await trx.deleteFrom('message_recipients').where('message_id', 'in', expired).execute();
    const deleted = await trx.deleteFrom('messages').where('created_at', '<', cutoff).executeTakeFirst();
    return { value: Number(deleted.numDeletedRows) };
  }, { emits: false });
}
