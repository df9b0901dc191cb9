import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  /** Where the file system is mounted. */
  path: string;
  /** Fills every free byte with a file of its own (so that writes fail with ENOSPC). */
  fill(): void;
  /** Removes the filling: the space is back. */
  free(): void;
  /** Unmounts it and removes the mount point. */
  remove(): void;
}

/**
 * Why a small file system cannot be had here, or undefined when it can: mounting a tmpfs
 * needs root (CI runs as root; a developer's sandbox may not allow mounts at all).
 */
export function smallDiskUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux to mount a small tmpfs as the data directory';
  if (process.getuid?.() !== 0) return 'needs root to mount a small tmpfs as the data directory';
  let disk: SmallDisk | undefined;
  try {
    disk = mountSmallDisk(1);
  } catch (err) {
    return `cannot mount a tmpfs here: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    disk?.remove();
  }
  return undefined;
}

/** A tmpfs of `megabytes`, owned by `owner` (a user name) when given. */
export function mountSmallDisk(megabytes: number, owner?: string): SmallDisk {
  const path = mkdtempSync(join(tmpdir(), 'koor-small-disk-'));
  const options = [`size=${megabytes}m`, 'mode=0755'];
  if (owner) {
    const uid = execFileSync('id', ['-u', owner], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', owner], { encoding: 'utf8' }).trim();
    options.push(`uid=${uid}`, `gid=${gid}`, 'mode=0700');
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', path], { stdio: 'pipe' });
  } catch (err) {
    rmdirSync(path);
    throw err;
  }
  const filler = join(path, 'filler');
  return {
    path,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        // Big pieces first, then ever smaller ones, until not one byte more fits.
        for (let size = 1024 * 1024; size >= 1; size = Math.floor(size / 4)) {
          const chunk = Buffer.alloc(size, 0x55);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    remove() {
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      rmdirSync(path);
    },
  };
}
