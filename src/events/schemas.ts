// Schemas of the events routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers (and KoorEvent) their types.
import { Type, type Static } from '../kernel/schema.js';

/** An event as stored and as sent on every channel (REST, WebSocket, SSE, webhooks). */
export const eventSchema = Type.Object({
  id: Type.Integer(),
  topic: Type.String(),
  data: Type.Unknown(),
  source: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
export type KoorEvent = Static<typeof eventSchema>;

export const publishBody = Type.Object({
  topic: Type.String({ description: 'Dot-separated segments of letters, digits, "_" and "-"' }),
  data: Type.Optional(Type.Unknown({ description: 'Any JSON value' })),
  source: Type.Optional(Type.String({ maxLength: 256, description: 'Defaults to the calling instance id' })),
});
/** An event to store: the publish route's body, and what every change hands the committer. */
export type NewEvent = Static<typeof publishBody>;

export const subscribeQuery = Type.Object({
  pattern: Type.Optional(Type.String({ default: '*' })),
  after: Type.Optional(Type.String()),
  token: Type.Optional(Type.String({ description: 'The bearer token, for clients that cannot set headers' })),
});
export type SubscribeQuery = Static<typeof subscribeQuery>;
