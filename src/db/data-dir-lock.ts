import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flockSync } from 'fs-ext';

/** The file in the data directory whose lock marks the directory as taken; it holds the pid. */
export const LOCK_FILE = 'koor.lock';

/** Another process (or another open database in this one) already uses the data directory. */
export class DataDirInUseError extends Error {}

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the data directory for this process, so that two servers never share one SQLite
 * file (each would run the background jobs, and each would serve its own cached values).
 *
 * The lock is flock(2) on `koor.lock`, an OS-level lock: the kernel drops it when the
 * process ends, however it ends, so a server killed with SIGKILL never leaves a lock behind
 * that blocks the next start, and there is no staleness guess (a lock directory and its age,
 * or a pid that may have been reused). The file also holds the holder's pid for the message.
 * Node opens files close-on-exec, so no child process can inherit the lock.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  // 'a+' creates the file without emptying it: the holder's pid must survive our attempt.
  const fd = openSync(path, 'a+');
  try {
    flockSync(fd, 'exnb');
  } catch (err) {
    closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw err;
    throw new DataDirInUseError(`data directory ${resolve(dataDir)} is in use by ${holderOf(path)}`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // Emptied first, so that a leftover file names nobody; closing the file ends the lock.
      ftruncateSync(fd, 0);
      closeSync(fd);
    },
  };
}

function holderOf(path: string): string {
  let pid = '';
  try {
    pid = readFileSync(path, 'utf8').trim();
  } catch {
    // unreadable: the holder goes unnamed
  }
  // Empty for the instant between the holder's lock and its writing the pid.
  return /^\d+$/.test(pid) ? `pid ${pid}` : 'another process';
}
