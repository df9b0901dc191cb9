import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';
import type { CheckpointWorkerData } from './checkpoint-worker.js';

/** How often the worker copies the write-ahead log into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * WAL pages after which the server's own connection checkpoints anyway (SQLite's default is
 * 1 000). Under a steady stream of writes the worker's checkpoints never quite catch up with
 * the newest commit, and only a checkpoint run between two commits lets SQLite start the log
 * over; this is that checkpoint. By then the worker has copied and synced nearly everything,
 * so it has little left to do.
 */
const SAFETY_CHECKPOINT_PAGES = 10_000;

/** After the log starts over, its file is cut back to this size. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Moves routine WAL checkpoints off the event loop. A checkpoint fsyncs the log and the
 * database file, and on a virtual disk one fsync can take tens of milliseconds: run by the
 * connection that just committed (SQLite's default), that pause lands on whichever requests
 * happen to be waiting. A worker thread with its own connection takes that work instead.
 *
 * Durability does not change: commits are in the log either way, and a checkpoint only copies
 * them into the main file. If the worker cannot start, the server's connection checkpoints
 * on its own as before, only less often.
 */
export function startCheckpointer(native: SqliteDatabase.Database, file: string, onError: (err: Error) => void): Checkpointer {
  native.pragma(`wal_autocheckpoint = ${SAFETY_CHECKPOINT_PAGES}`);
  native.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  const workerData: CheckpointWorkerData = { file, intervalMs: CHECKPOINT_INTERVAL_MS };
  const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData });
  worker.unref();
  let failed = false;
  worker.on('error', (err) => {
    failed = true;
    // Back to SQLite's usual rhythm, so the log stays short without the worker.
    if (native.open) native.pragma('wal_autocheckpoint = 1000');
    onError(err);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      if (failed) return;
      // Held by the wait for its exit; unreferenced, a process with nothing else to do would
      // end with that wait still pending.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
