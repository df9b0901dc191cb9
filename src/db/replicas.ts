import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * What several koor-server processes sharing one PostgreSQL database need from it (SPEC §14):
 * an order for commits that must not overtake each other, a word to every replica when
 * something was committed, and the choice of the one replica that runs the background jobs.
 *
 * SQLite has one process per database file, so there every call is trivially true: nothing to
 * order against, nobody to tell, and the only process leads.
 */
export interface Replicas {
  /**
   * Makes transactions that take the same lock commit one after another, across every
   * replica: the lock is held from here until the transaction ends.
   */
  lockUntilCommit(trx: Transaction<Database>, name: string): Promise<void>;
  /** Tells every other replica listening on `channel`, once the transaction commits. */
  notifyOnCommit(trx: Transaction<Database>, channel: string): Promise<void>;
  /**
   * Calls `onNotice` after each commit another replica notified on `channel`, and each time
   * the listening connection is made (notices may have been missed while there was none).
   */
  listen(channel: string, onNotice: () => void): Closable;
  /**
   * Competes for leadership under `name`: `onChange(true, term)` when this replica becomes the
   * leader, `onChange(false)` if it stops being one (its connection was lost). Close to step
   * down and let another replica lead.
   */
  lead(name: string, onChange: (leading: boolean, term?: LeaderTerm) => void): Closable;
  /**
   * Fencing: whether `term` is still the current leadership, asked inside the transaction of
   * a leader's change. On PostgreSQL the term's row stays share-locked until that transaction
   * ends, so a new leader (which first moves the term on) waits for it: a change of a leader
   * that lost its lock either commits before the new leader starts, or is refused.
   */
  stillLeads(trx: Transaction<Database>, term: LeaderTerm): Promise<boolean>;
}

/** One leadership: every new leader of `name` gets a higher `term` than any before it. */
export interface LeaderTerm {
  name: string;
  term: number;
}

export interface Closable {
  close(): Promise<void>;
}

/** The only process on its database: always the leader, with nobody to tell. */
export const singleProcess: Replicas = {
  lockUntilCommit: async () => undefined,
  notifyOnCommit: async () => undefined,
  listen: () => ({ close: async () => undefined }),
  lead(_name, onChange) {
    onChange(true);
    return { close: async () => undefined };
  },
  stillLeads: async () => true,
};

export interface PostgresReplicaOptions {
  url: string;
  /** How often a replica that does not lead asks again, and how soon a lost connection is retried. */
  retryMs: number;
  warn: (message: string, err: Error) => void;
}

const CONNECT_TIMEOUT_MS = 10_000;

/** Advisory locks are numbered; a name becomes its number inside PostgreSQL, by `hashtext`. */
const lockName = (name: string) => `koor:${name}`;

export function postgresReplicas(options: PostgresReplicaOptions): Replicas {
  // Carried by this replica's notices, so that it can tell its own from the others'.
  const self = randomUUID();
  return {
    async lockUntilCommit(trx, name) {
      await sql`select pg_advisory_xact_lock(hashtext(${lockName(name)}))`.execute(trx);
    },
    async notifyOnCommit(trx, channel) {
      await sql`select pg_notify(${channel}, ${self})`.execute(trx);
    },
    listen(channel, onNotice) {
      return new SessionLoop(options, async (client) => {
        client.on('notification', (message) => {
          if (message.channel === channel && message.payload !== self) onNotice();
        });
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        // Whatever was committed while no connection listened is caught up on now.
        onNotice();
      });
    },
    async stillLeads(trx, { name, term }) {
      const row = await trx.selectFrom('leader_terms').select('term').where('name', '=', name).forShare().executeTakeFirst();
      return row !== undefined && Number(row.term) === term;
    },
    lead(name, onChange) {
      let leading = false;
      return new SessionLoop(
        options,
        async (client, stillWanted, pause) => {
          // A session-level lock: held for as long as this connection lives, so a replica that
          // dies (or loses its connection) hands leadership on without doing anything.
          while (stillWanted()) {
            const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtext($1)) as locked', [lockName(name)]);
            if (rows[0]?.locked) {
              // A new term, before any job runs: changes of earlier leaders are refused from
              // now on (this waits for those under way; see stillLeads).
              const moved = await client.query<{ term: string | number }>(
                `insert into leader_terms (name, term) values ($1, 1)
                 on conflict (name) do update set term = leader_terms.term + 1 returning term`,
                [name],
              );
              leading = true;
              onChange(true, { name, term: Number(moved.rows[0]!.term) });
              // Ask the connection something now and then, so that one that died without a
              // word (a network partition) is noticed within a retry period or two.
              while (stillWanted()) {
                await pause();
                if (stillWanted()) await client.query('select 1');
              }
              return;
            }
            await pause();
          }
        },
        () => {
          if (!leading) return;
          leading = false;
          onChange(false);
        },
      );
    },
  };
}

/**
 * One dedicated connection, kept open: `session` runs on each new connection; when the
 * connection fails, `lost` is called and a new one is made after a pause.
 */
class SessionLoop implements Closable {
  private client: pg.Client | undefined;
  private closed = false;
  private wakeFromPause: (() => void) | undefined;
  private readonly running: Promise<void>;

  constructor(
    private readonly options: PostgresReplicaOptions,
    private readonly session: (client: pg.Client, stillWanted: () => boolean, pause: () => Promise<void>) => Promise<void>,
    private readonly lost: () => void = () => undefined,
  ) {
    this.running = this.run();
  }

  /** Waits one retry period (cut short by close). */
  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.retryMs);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeFromPause = done;
    });
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const client = new pg.Client({
        connectionString: this.options.url,
        // Named, so that an operator can tell these connections apart in pg_stat_activity.
        application_name: 'koor-replica',
        // A connect or a query that hangs (a network partition) fails instead of waiting
        // forever; a query answers within milliseconds when all is well.
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: Math.max(2 * this.options.retryMs, 1_000),
        keepAlive: true,
      });
      const ended = new Promise<Error>((resolve) => {
        client.on('error', resolve);
        client.on('end', () => resolve(new Error('connection ended')));
      });
      try {
        await client.connect();
        this.client = client;
        // A session's pauses end early when its connection does, so that it notices at once.
        const pause = () => Promise.race([this.pause(), ended.then(() => undefined)]);
        await this.session(client, () => !this.closed && this.client === client, pause);
        if (!this.closed) {
          const err = await ended;
          if (!this.closed) this.options.warn('PostgreSQL replica connection lost; reconnecting', new Error(err.message));
        }
      } catch (err) {
        if (!this.closed) this.options.warn('PostgreSQL replica connection failed; retrying', new Error((err as Error).message));
      }
      this.client = undefined;
      this.lost();
      await client.end().catch(() => undefined);
      if (!this.closed) await this.pause();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeFromPause?.();
    await this.client?.end().catch(() => undefined);
    await this.running;
  }
}
