import { createHash, randomBytes } from 'node:crypto';

/** A new instance token: 32 random bytes as hex. Shown once, at registration. */
export function newInstanceToken(): string {
  return randomBytes(32).toString('hex');
}

/** What the database keeps instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
