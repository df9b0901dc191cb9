import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import { markFromDatabase } from './storage-trouble.js';

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
}

/**
 * The dialect with its driver watched: every error of a database call is marked as coming
 * from the database (see storageTrouble) and reported, and a transaction the engine already
 * ended is not rolled back a second time.
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
  constructor(
    readonly inner: DatabaseConnection,
    private readonly failed: (err: unknown) => never,
  ) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return this.inner.executeQuery<R>(compiledQuery).catch(this.failed);
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (err) {
      this.failed(err);
    }
  }
}

const innerOf = (connection: DatabaseConnection) => (connection as WatchedConnection).inner;

class WatchedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly watch: DriverWatch,
  ) {}

  private readonly failed = (err: unknown): never => {
    markFromDatabase(err);
    this.watch.failed(err);
    throw err;
  };

  init(): Promise<void> {
    return this.inner.init().catch(this.failed);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new WatchedConnection(await this.inner.acquireConnection().catch(this.failed), this.failed);
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(innerOf(connection), settings).catch(this.failed);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(innerOf(connection)).catch(this.failed);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
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
