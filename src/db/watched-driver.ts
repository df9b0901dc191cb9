import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import { connectionLost, markDuringCommit, markFromDatabase } from './storage-trouble.js';
import { afterPause, RETRY_WINDOW_MS } from './retry.js';

export interface DriverWatch {
  /** Told of every error a database call throws, once it is marked as the database's. */
  failed(err: unknown): void;
  /**
   * SQLite only: whether the connection is still inside its transaction. SQLite ends a
   * transaction by itself on some errors (a full disk, an I/O error); rolling it back again
   * then fails with "cannot rollback - no transaction is active", and that error would take
   * the place of the one that says what went wrong.
   */
  inTransaction?: () => boolean;
  /**
   * PostgreSQL: a read (a select outside a transaction) whose connection was lost is run again
   * on a new connection, for up to RETRY_WINDOW_MS, instead of failing its request.
   */
  retryReads?: boolean;
}

/**
 * The dialect with its driver watched: every error of a database call is marked as coming
 * from the database (see storageTrouble) and reported, a transaction the engine already ended
 * is not rolled back a second time, an error during COMMIT is marked as such (the transaction
 * may have committed), and on PostgreSQL reads ride out a lost connection.
 */
export function watchedDialect(dialect: Dialect, watch: DriverWatch): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new WatchedDriver(dialect.createDriver(), watch),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class WatchedConnection implements DatabaseConnection {
  /** Between BEGIN and COMMIT or ROLLBACK. */
  inTransaction = false;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly driver: WatchedDriver,
  ) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return this.inner.executeQuery<R>(compiledQuery).catch((err: unknown) => {
      if (this.driver.retriesReads && !this.inTransaction && compiledQuery.query.kind === 'SelectQueryNode' && connectionLost(err)) {
        return this.driver.readAgain<R>(compiledQuery, err);
      }
      return this.driver.failed(err);
    });
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (err) {
      this.driver.failed(err);
    }
  }
}

const innerOf = (connection: DatabaseConnection) => (connection as WatchedConnection).inner;

class WatchedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly watch: DriverWatch,
  ) {}

  readonly failed = (err: unknown): never => {
    markFromDatabase(err);
    this.watch.failed(err);
    throw err;
  };

  get retriesReads(): boolean {
    return this.watch.retryReads === true;
  }

  /** Runs a read whose connection was lost again, each time on a new connection, within the window. */
  async readAgain<R>(compiledQuery: CompiledQuery, first: unknown): Promise<QueryResult<R>> {
    markFromDatabase(first);
    const deadline = Date.now() + RETRY_WINDOW_MS;
    let last = first;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      await afterPause(attempt, deadline);
      let fresh: DatabaseConnection | undefined;
      try {
        fresh = await this.inner.acquireConnection();
        return await fresh.executeQuery<R>(compiledQuery);
      } catch (err) {
        markFromDatabase(err);
        if (!connectionLost(err)) return this.failed(err);
        last = err;
      } finally {
        if (fresh) await this.inner.releaseConnection(fresh);
      }
    }
    return this.failed(last);
  }

  init(): Promise<void> {
    return this.inner.init().catch(this.failed);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new WatchedConnection(await this.inner.acquireConnection().catch(this.failed), this);
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    (connection as WatchedConnection).inTransaction = true;
    return this.inner.beginTransaction(innerOf(connection), settings).catch(this.failed);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.commitTransaction(innerOf(connection));
      (connection as WatchedConnection).inTransaction = false;
    } catch (err) {
      // The COMMIT may have reached the server before the connection failed: nobody can
      // tell whether it committed, so this transaction must not be run again.
      markDuringCommit(err);
      this.failed(err);
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as WatchedConnection).inTransaction = false;
    if (this.watch.inTransaction && !this.watch.inTransaction()) return;
    try {
      await this.inner.rollbackTransaction(innerOf(connection));
    } catch (err) {
      // On PostgreSQL a rollback fails when the connection is gone, which already ended the
      // transaction (and the pool drops the connection): the error that failed the
      // transaction is the one to tell. On SQLite the connection is still in it: say so.
      markFromDatabase(err);
      this.watch.failed(err);
      if (this.watch.inTransaction) throw err;
    }
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
