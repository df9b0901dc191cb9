// Schemas of the messages routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the domain (SendInput, Sent, Message, Receipt,
// ThreadMessage) their types.
import { Nullable, StringEnum, Type, type Static } from '../kernel/schema.js';
import { MAX_ADDRESSES } from './addresses.js';
import { DEFAULT_INBOX_LIMIT, IMPORTANCE, MAX_INBOX_LIMIT, MAX_SUBJECT_LENGTH, MAX_THREAD_ID_LENGTH } from './messages.js';

const nullableTime = (options: { description?: string } = {}) => Nullable(Type.String({ ...options, format: 'date-time' }));

export const sendBody = Type.Object({
  to: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
    minItems: 1,
    maxItems: MAX_ADDRESSES,
    description: 'instance ids or names, "capability:X", "workspace:W", "*" (everyone) or "human"',
  }),
  body: Type.Unknown({ description: 'text or any JSON value, at most 64 KB as JSON' }),
  subject: Type.Optional(Type.String({ maxLength: MAX_SUBJECT_LENGTH })),
  thread_id: Type.Optional(Type.String({ maxLength: MAX_THREAD_ID_LENGTH, description: 'reply in this thread (default: a new thread named after the message id)' })),
  importance: Type.Optional(StringEnum(IMPORTANCE, { default: 'normal' })),
  ack_required: Type.Optional(Type.Boolean({ default: false })),
}, { additionalProperties: false });
export type SendInput = Static<typeof sendBody>;

export const sentSchema = Type.Object({
  id: Type.Integer(),
  thread_id: Type.String(),
  recipients: Type.Array(Type.String(), { description: 'instance ids (or human)' }),
  created_at: Type.String({ format: 'date-time' }),
});
export type Sent = Static<typeof sentSchema>;

const messageProperties = {
  id: Type.Integer(),
  thread_id: Type.String(),
  from: Type.String({ description: 'the sending instance id, or human' }),
  from_name: Type.String(),
  subject: Type.String(),
  body: Type.Unknown(),
  importance: StringEnum(IMPORTANCE),
  ack_required: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  /** When the reader marked it read / acknowledged it; null when not (or not a recipient). */
  read_at: nullableTime({ description: "the reader's own receipt" }),
  acked_at: nullableTime(),
};

/** A message as its reader sees it, with the reader's own receipts. */
export const messageSchema = Type.Object(messageProperties);
export type Message = Static<typeof messageSchema>;

export const receiptOfRecipient = Type.Object({ id: Type.String(), name: Type.String(), read_at: nullableTime(), acked_at: nullableTime() });
export type Receipt = Static<typeof receiptOfRecipient>;

/** A message in a thread: also who it went to, and their receipts. */
export const threadMessageSchema = Type.Object({ ...messageProperties, to: Type.Array(receiptOfRecipient) });
export type ThreadMessage = Static<typeof threadMessageSchema>;

export const threadSchema = Type.Object({ thread_id: Type.String(), messages: Type.Array(threadMessageSchema) });

export const inboxQuery = Type.Object({
  instance: Type.Optional(Type.String({ description: "admin: read this instance's inbox" })),
  unread: Type.Optional(StringEnum(['1', 'true', '0', 'false'], { description: '1: only messages not marked read' })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'only messages with a larger id' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INBOX_LIMIT, default: DEFAULT_INBOX_LIMIT })),
  wait: Type.Optional(Type.String({ description: 'hold the request up to this long (30s, at most 5m) until an unread message is there' })),
});

export const messageIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

export const threadParams = Type.Object({ thread_id: Type.String({ minLength: 1 }) });

/** The answers of marking a message read and acknowledging it. */
export const receiptSchema = {
  read_at: Type.Object({ id: Type.Integer(), read_at: Type.String({ format: 'date-time' }) }),
  acked_at: Type.Object({ id: Type.Integer(), acked_at: Type.String({ format: 'date-time' }) }),
};

export const unreadSchema = Type.Array(Type.Object({ instance: Type.String(), name: Type.String(), unread: Type.Integer() }));
