// Runs in a worker thread (see checkpointer.ts): copies committed pages from the SQLite
// write-ahead log into the database file on its own connection, so that the fsyncs a
// checkpoint needs never stall the server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
}

const { file, intervalMs } = workerData as CheckpointWorkerData;
const db = new SqliteDatabase(file, { fileMustExist: true });
// PASSIVE never waits for anyone; a busy database simply means "try again next tick".
db.pragma('busy_timeout = 0');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY or a closing database: the next tick, or the server's own checkpoint, does it.
  }
}, intervalMs);

parentPort!.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
