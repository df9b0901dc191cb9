import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../server/config.js';
import type { ReadDb } from '../db/engine.js';
import type { EventHub } from '../events/hub.js';
import type { Committer } from '../commit/committer.js';
import type { JobSet } from './jobs.js';
import type { WorkPool } from './work-pool.js';

/**
 * Everything a domain function may need, built once per app by `buildApp` (src/server/app.ts),
 * which is the one place every service is made. Domains receive it as their first argument;
 * routes and MCP tools pass `app.koor`.
 *
 * Domains that provide a service add its field here by declaration merging from their own
 * module (`declare module '../kernel/context.js' { interface AppContext { … } }`), as they
 * declare their tables, so the kernel names no domain.
 */
export interface AppContext {
  config: Config;
  /** Reads only: every write goes through `commit`. */
  db: ReadDb;
  /** The one write door (see src/commit/committer.ts). */
  commit: Committer['commit'];
  committer: Committer;
  log: FastifyBaseLogger;
  hub: EventHub;
  jobs: JobSet;
  /** Worker threads for CPU-heavy work on user input, with the per-request work budget. */
  work: WorkPool;
  version: string;
  startedAt: number;
  /** The URL the API listens on once it listens (for endpoint lists and compliance calls). */
  baseUrl: string;
}

/**
 * What a caller may do (SPEC §15): `admin` everything, `agent` its work and its own instance,
 * `reader` only reads. Which routes each role may call is declared on the routes themselves
 * (see src/kernel/permissions.ts).
 */
export type Role = 'admin' | 'agent' | 'reader';

/**
 * Who made a request: an instance (by its token), the admin (server token, or anyone in local
 * mode), or a reader (a read token).
 */
export interface Actor {
  /** The instance id, `admin`, `anonymous` (local mode's admin) or `reader`: what the audit log records. */
  id: string;
  instanceId?: string;
  role: Role;
}

/** Local mode's caller: anyone without a token, who is the admin there. */
export const ANONYMOUS: Actor = { id: 'anonymous', role: 'admin' };
export const ADMIN: Actor = { id: 'admin', role: 'admin' };
export const READER: Actor = { id: 'reader', role: 'reader' };

/** The caller an instance token names. */
export const instanceActor = (instanceId: string): Actor => ({ id: instanceId, instanceId, role: 'agent' });
