// Schemas of the webhooks routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the domain (Webhook, NewWebhook) their types.
import { Type, type Static, type TSchema } from '../kernel/schema.js';

export const webhookSchema = Type.Object({
  id: Type.String(),
  url: Type.String({ description: 'Credentials in it are shown as ***' }),
  has_secret: Type.Boolean({ description: 'Whether deliveries are signed; the secret itself is never shown' }),
  patterns: Type.Array(Type.String()),
  active: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  fail_count: Type.Integer(),
  // OpenAPI's `nullable`, which fastify's ajv reads too.
  last_fired: Type.Unsafe<string | null>({ type: 'string', format: 'date-time', nullable: true } as TSchema),
});
export type Webhook = Static<typeof webhookSchema>;

export const newWebhookBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }),
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  patterns: Type.Optional(Type.Array(Type.String(), { maxItems: 64, default: ['*'] })),
  secret: Type.Optional(Type.String({ maxLength: 1024, description: 'Signs deliveries (X-Koor-Signature); never shown again' })),
});
export type NewWebhook = Static<typeof newWebhookBody>;

export const idParams = Type.Object({ id: Type.String() });
