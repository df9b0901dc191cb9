// JSON schemas of the messages routes.
import { MAX_ADDRESSES } from './addresses.js';
import { DEFAULT_INBOX_LIMIT, IMPORTANCE, MAX_INBOX_LIMIT, MAX_SUBJECT_LENGTH, MAX_THREAD_ID_LENGTH } from './messages.js';

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const sendBody = {
  type: 'object',
  properties: {
    to: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_ADDRESSES,
      items: { type: 'string', minLength: 1, maxLength: 300 },
      description: 'instance ids or names, "capability:X", "workspace:W", "*" (everyone) or "human"',
    },
    body: { description: 'text or any JSON value, at most 64 KB as JSON' },
    subject: { type: 'string', maxLength: MAX_SUBJECT_LENGTH },
    thread_id: { type: 'string', maxLength: MAX_THREAD_ID_LENGTH, description: 'reply in this thread (default: a new thread named after the message id)' },
    importance: { type: 'string', enum: [...IMPORTANCE], default: 'normal' },
    ack_required: { type: 'boolean', default: false },
  },
  required: ['to', 'body'],
  additionalProperties: false,
} as const;

export const sentSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    thread_id: { type: 'string' },
    recipients: { type: 'array', items: { type: 'string' }, description: 'instance ids (or human)' },
    created_at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'thread_id', 'recipients', 'created_at'],
} as const;

const messageProperties = {
  id: { type: 'integer' },
  thread_id: { type: 'string' },
  from: { type: 'string', description: 'the sending instance id, or human' },
  from_name: { type: 'string' },
  subject: { type: 'string' },
  body: {},
  importance: { type: 'string', enum: [...IMPORTANCE] },
  ack_required: { type: 'boolean' },
  created_at: { type: 'string', format: 'date-time' },
  read_at: { ...nullableTime, description: "the reader's own receipt" },
  acked_at: nullableTime,
} as const;

const messageRequired = ['id', 'thread_id', 'from', 'from_name', 'subject', 'body', 'importance', 'ack_required', 'created_at', 'read_at', 'acked_at'] as const;

export const messageSchema = { type: 'object', properties: messageProperties, required: [...messageRequired] } as const;

export const threadSchema = {
  type: 'object',
  properties: {
    thread_id: { type: 'string' },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ...messageProperties,
          to: {
            type: 'array',
            items: {
              type: 'object',
              properties: { id: { type: 'string' }, name: { type: 'string' }, read_at: nullableTime, acked_at: nullableTime },
              required: ['id', 'name', 'read_at', 'acked_at'],
            },
          },
        },
        required: [...messageRequired, 'to'],
      },
    },
  },
  required: ['thread_id', 'messages'],
} as const;

export const inboxQuery = {
  type: 'object',
  properties: {
    instance: { type: 'string', description: "admin: read this instance's inbox" },
    unread: { type: 'string', enum: ['1', 'true', '0', 'false'], description: '1: only messages not marked read' },
    after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'only messages with a larger id' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_INBOX_LIMIT, default: DEFAULT_INBOX_LIMIT },
    wait: { type: 'string', description: 'hold the request up to this long (30s, at most 5m) until an unread message is there' },
  },
} as const;

export const messageIdParams = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
  required: ['id'],
} as const;

export const receiptSchema = (field: 'read_at' | 'acked_at') => ({
  type: 'object',
  properties: { id: { type: 'integer' }, [field]: { type: 'string', format: 'date-time' } },
  required: ['id', field],
}) as const;

export const unreadSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: { instance: { type: 'string' }, name: { type: 'string' }, unread: { type: 'integer' } },
    required: ['instance', 'name', 'unread'],
  },
} as const;
