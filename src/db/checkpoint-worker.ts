// Runs in a worker thread (see checkpointer.ts): copies committed pages from the SQLite
// write-ahead log into the database file on its own connection, so that the fsyncs a
// checkpoint needs never stall the server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
  /** Log pages from which the worker asks for a moment without writers to end the log. */
  restartPages: number;
  /** How long an ending checkpoint may wait for readers. */
  restartWaitMs: number;
}

/** Worker → server: "hold writes back"; server → worker: "no writer now"; worker → server: "done". */
export type CheckpointMessage = 'want-quiet' | 'quiet' | 'done' | 'stop';

const { file, intervalMs, restartPages, restartWaitMs } = workerData as CheckpointWorkerData;
const db = new SqliteDatabase(file, { fileMustExist: true });
// PASSIVE never waits for anyone; a busy database simply means "try again next tick".
db.pragma('busy_timeout = 0');
let asked = false;

const timer = setInterval(() => {
  try {
    const [status] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
    // Under a steady stream of commits the log never gets fully copied at a moment when no
    // commit is adding to it, and SQLite only starts it over from such a moment. Past a size,
    // ask the server for one.
    if (!asked && status && status.log >= restartPages) {
      asked = true;
      parentPort!.postMessage('want-quiet' satisfies CheckpointMessage);
    }
  } catch {
    // SQLITE_BUSY or a closing database: the next tick, or the server's own checkpoint, does it.
  }
}, intervalMs);

parentPort!.on('message', (message: CheckpointMessage) => {
  if (message === 'quiet') {
    // No writer now: copy what is left and let the next commit start the log over.
    db.pragma(`busy_timeout = ${restartWaitMs}`);
    try {
      db.pragma('wal_checkpoint(RESTART)');
    } catch {
      // Readers held on too long: the next round tries again.
    }
    db.pragma('busy_timeout = 0');
    asked = false;
    parentPort!.postMessage('done' satisfies CheckpointMessage);
  } else if (message === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort!.close();
  }
});
