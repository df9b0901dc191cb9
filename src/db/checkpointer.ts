import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';
import type { CheckpointMessage, CheckpointWorkerData } from './checkpoint-worker.js';
import type { WriteGate } from './write-gate.js';

/** How often the worker copies the write-ahead log into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

/** Log pages (of 4 KB) from which the worker ends the log in a moment without writers. */
const RESTART_PAGES = 4_096;

/** Longest that writes are held back for it; past that they go on, and the worker waits its turn. */
const QUIET_LIMIT_MS = 1_000;

/**
 * Log pages after which the server's own connection checkpoints anyway, should the worker
 * not keep up or not run at all (SQLite's default is 1 000).
 */
const SAFETY_CHECKPOINT_PAGES = 10_000;

/** After the log starts over, its file is cut back to this size. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the event loop. A checkpoint fsyncs the log and the database
 * file, and on a virtual disk one fsync can take tens of milliseconds: run by the connection
 * that just committed (SQLite's default), that pause lands on whichever requests happen to be
 * waiting. A worker thread with its own connection does the work instead:
 *
 * - every 100 ms it copies what has been committed (PASSIVE: writers carry on meanwhile);
 * - under a steady stream of writes that never ends the log, so past RESTART_PAGES it asks
 *   for a moment without writers: the gate holds new transactions back (the event loop
 *   keeps running: reads, WebSocket frames), the worker copies the little that is left and
 *   ends the log, and the gate opens again. The next commit starts the log over.
 *
 * Durability does not change: commits are in the log either way, and a checkpoint only copies
 * them into the main file. If the worker cannot start, the server's connection checkpoints
 * on its own as before, only less often.
 */
export function startCheckpointer(native: SqliteDatabase.Database, file: string, gate: WriteGate, onError: (err: Error) => void): Checkpointer {
  native.pragma(`wal_autocheckpoint = ${SAFETY_CHECKPOINT_PAGES}`);
  native.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  const workerData: CheckpointWorkerData = {
    file,
    intervalMs: CHECKPOINT_INTERVAL_MS,
    restartPages: RESTART_PAGES,
    restartWaitMs: QUIET_LIMIT_MS,
  };
  const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData });
  worker.unref();
  let failed = false;
  let stopping = false;
  let endQuiet: (() => void) | undefined;

  const send = (message: CheckpointMessage) => worker.postMessage(message);
  worker.on('message', (message: CheckpointMessage) => {
    if (message === 'done') {
      endQuiet?.();
      return;
    }
    if (message !== 'want-quiet' || stopping || endQuiet) return;
    void gate.close().then((release) => {
      const limit = setTimeout(() => finish(), QUIET_LIMIT_MS);
      const finish = () => {
        clearTimeout(limit);
        endQuiet = undefined;
        release();
      };
      endQuiet = finish;
      if (stopping || failed) finish();
      else send('quiet');
    });
  });
  worker.on('error', (err) => {
    failed = true;
    endQuiet?.();
    // Back to SQLite's usual rhythm, so the log stays short without the worker.
    if (native.open) native.pragma('wal_autocheckpoint = 1000');
    onError(err);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      stopping = true;
      endQuiet?.();
      if (failed) return;
      // Held by the wait for its exit; unreferenced, a process with nothing else to do would
      // end with that wait still pending.
      worker.ref();
      send('stop');
      await exited;
    },
  };
}
