import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../server/config.js';
import type { Db } from '../db/engine.js';
import type { EventHub } from '../events/hub.js';
import type { JobSet } from './jobs.js';
import type { CallCounters } from '../metrics/counters.js';

/**
 * Everything a domain function may need, built once per app. Domains receive it as their
 * first argument; routes and MCP tools pass `app.koor`.
 */
export interface AppContext {
  config: Config;
  db: Db;
  log: FastifyBaseLogger;
  hub: EventHub;
  jobs: JobSet;
  counters: CallCounters;
  /** Live counters other domains update and the metrics domain reports (Prometheus, /api/metrics). */
  stats: ServerStats;
  version: string;
  startedAt: number;
  /** The URL the API listens on once it listens (for endpoint lists and compliance calls). */
  baseUrl: string;
}

/** Who made a request: an instance (by its token), the admin (server token), or anyone in local mode. */
export interface Actor {
  /** The instance id, `admin` or `anonymous`: what the audit log records. */
  id: string;
  instanceId?: string;
}

export const ANONYMOUS: Actor = { id: 'anonymous' };
export const ADMIN: Actor = { id: 'admin' };

export interface ServerStats {
  eventsPublished: number;
  webSocketSubscribers: number;
  webhookDeliveries: number;
  webhookFailures: number;
}
