import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

/** What the database failing means for a client, and for how long. */
export interface StorageTrouble {
  /** 507 when the disk is full, 503 for every other database failure. */
  status: 503 | 507;
  /** One line naming the trouble, for the answer and for `/health`; no SQL, no internals. */
  message: string;
  /** The error body's stable reason: `disk_full`, `database_unavailable`, `database_busy` or `database_error`. */
  reason: StorageReason;
  /**
   * True when the condition outlasts the request that met it (a full disk, an I/O error, a
   * database out of reach): `/health` reports it until a write succeeds again. False for
   * trouble of one request (a lock timeout, a conflict to retry).
   */
  lasting: boolean;
}

export type StorageReason = 'disk_full' | 'database_unavailable' | 'database_busy' | 'database_error';

const fromDatabase = Symbol('koor.fromDatabase');

/**
 * Marks an error as thrown by a database call (the engine's driver does this for every call),
 * so that a connection error (ECONNRESET, "Connection terminated") is told apart from the same
 * error met talking to some other server.
 */
export function markFromDatabase(err: unknown): void {
  if (err instanceof Error && !(fromDatabase in err)) Object.defineProperty(err, fromDatabase, { value: true });
}

/** Names a database failure, or answers undefined for an error that is not one. */
export function storageTrouble(err: unknown): StorageTrouble | undefined {
  if (err instanceof SqliteDatabase.SqliteError) return sqliteTrouble(err.code, err.message);
  if (err instanceof pg.DatabaseError && err.code) return postgresTrouble(err.code, err.message);
  if (err instanceof Error && fromDatabase in err) return connectionTrouble(err);
  return undefined;
}

const diskFull = (message: string): StorageTrouble => ({ status: 507, message: `disk full: ${message}`, reason: 'disk_full', lasting: true });
const unavailable = (message: string): StorageTrouble => ({ status: 503, message: `database unavailable: ${message}`, reason: 'database_unavailable', lasting: true });
const busy = (message: string): StorageTrouble => ({ status: 503, message: `database busy: ${message}`, reason: 'database_busy', lasting: false });
const failed = (message: string): StorageTrouble => ({ status: 503, message: `database error: ${message}`, reason: 'database_error', lasting: false });

function sqliteTrouble(code: string, message: string): StorageTrouble {
  const [, family] = /^(SQLITE_[A-Z]+)/.exec(code) ?? [];
  switch (family) {
    case 'SQLITE_FULL':
      return diskFull(`the database file cannot grow (${code})`);
    case 'SQLITE_IOERR':
      return unavailable(`the disk failed to read or write (${code})`);
    case 'SQLITE_READONLY':
      return unavailable(`the database file is read-only (${code})`);
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return unavailable(`the database file is damaged (${code})`);
    case 'SQLITE_CANTOPEN':
      return unavailable(`the database file cannot be opened (${code})`);
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return busy(`retry (${code})`);
    case 'SQLITE_NOMEM':
      return busy(`out of memory (${code})`);
    default:
      return failed(`${message} (${code})`);
  }
}

/** PostgreSQL's SQLSTATE codes, by class (the first two characters) where the class says it all. */
function postgresTrouble(code: string, message: string): StorageTrouble {
  if (code === '53100') return diskFull(`PostgreSQL cannot write (${code})`);
  switch (code.slice(0, 2)) {
    case '08':
      return unavailable(`the connection to PostgreSQL failed (${code})`);
    case '53':
      return unavailable(`PostgreSQL is out of resources: ${message} (${code})`);
    case '57':
      // 57P01-57P03: an administrator or a crash is shutting PostgreSQL down, or it is starting.
      if (code.startsWith('57P')) return unavailable(`PostgreSQL is restarting or shutting down (${code})`);
      return busy(`the statement was cancelled; retry (${code})`);
    case '58':
      return unavailable(`PostgreSQL failed to read or write its files (${code})`);
    case 'XX':
      return unavailable(`PostgreSQL reports an internal error (${code})`);
    case '40':
    case '55':
      return busy(`retry (${code})`);
    default:
      return failed(`${message} (${code})`);
  }
}

/** A connection that failed or was lost ("connect ECONNREFUSED …", "Connection terminated unexpectedly"). */
function connectionTrouble(err: Error): StorageTrouble {
  return unavailable(err.message.replace(/\s+/g, ' '));
}

/**
 * True when the error says the connection to PostgreSQL was lost or could not be made (the
 * server restarting, shutting down or out of reach): the statement did not run to the end on
 * a live connection, so a read, or a transaction that had not yet asked to commit, can be run
 * again on a new connection.
 */
export function connectionLost(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return Boolean(err.code && (err.code.startsWith('08') || /^57P0[1-3]$/.test(err.code)));
  return err instanceof Error && fromDatabase in err && !(err instanceof SqliteDatabase.SqliteError);
}

const duringCommit = Symbol('koor.duringCommit');

/** Marks an error as met while the transaction's COMMIT was under way: it may have committed. */
export function markDuringCommit(err: unknown): void {
  if (err instanceof Error && !(duringCommit in err)) Object.defineProperty(err, duringCommit, { value: true });
}

/** Whether a failed transaction surely did not commit, so that running it again is safe. */
export function failedBeforeCommit(err: unknown): boolean {
  return !(err instanceof Error && duringCommit in err);
}
