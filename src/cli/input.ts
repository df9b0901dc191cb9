import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { badInput } from './exit-codes.js';

export interface ValueSource {
  data?: string;
  file?: string;
}

function unreadable(path: string, flag: string, err: unknown) {
  const code = (err as NodeJS.ErrnoException).code;
  return badInput(`cannot read ${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message}`);
}

export function readFileArgument(path: string, flag = '--file'): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw unreadable(path, flag, err);
  }
}

/** Writes a file named by a flag, or a bad-input error naming the flag when it cannot. */
export function writeFileArgument(path: string, flag: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw badInput(`cannot write ${flag} ${path}: ${code ?? (err as Error).message}`);
  }
}

/** The size of a file named by a flag, or a bad-input error if it cannot be read. */
export function fileSize(path: string, flag: string): number {
  let stats;
  try {
    stats = statSync(path);
  } catch (err) {
    throw unreadable(path, flag, err);
  }
  if (!stats.isFile()) throw badInput(`cannot read ${flag} ${path}: not a file`);
  return stats.size;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The value to write: `--data`, else `--file`, else whatever is piped on stdin. */
export async function readValue(source: ValueSource): Promise<Buffer> {
  if (source.data !== undefined && source.file !== undefined) throw badInput('give either --data or --file, not both');
  if (source.data !== undefined) return Buffer.from(source.data, 'utf8');
  if (source.file !== undefined) return readFileArgument(source.file);
  if (process.stdin.isTTY) throw badInput('no value: give --data JSON, --file PATH, or pipe it on stdin');
  return readStdin();
}

/** Parses JSON the user typed, naming the flag when it is not JSON. */
export function parseJson(text: string | Buffer, flag: string): unknown {
  try {
    return JSON.parse(text.toString());
  } catch (err) {
    throw badInput(`${flag} is not valid JSON: ${(err as Error).message}`);
  }
}

/** `a,b, c` → `['a','b','c']`. */
export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** A whole number ≥ `min` from a flag, or a bad-input error naming the flag. */
export function parseWhole(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw badInput(`${flag} must be a whole number${min > 0 ? ` ≥ ${min}` : ''}, got "${value}"`);
  return n;
}

/**
 * A value about to be stored as JSON must be JSON: the server keeps values as sent, so a typo
 * (`--data '{bad'`) would otherwise be stored as `application/json` and break every reader.
 */
export function checkJsonValue(value: Buffer, contentType: string, source: ValueSource): void {
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(contentType.trim())) return;
  try {
    JSON.parse(value.toString('utf8'));
  } catch (err) {
    const flag = source.data !== undefined ? '--data' : source.file !== undefined ? `--file ${source.file}` : 'stdin';
    throw badInput(`${flag} is not valid JSON (${(err as Error).message}), so it cannot be stored as ${contentType}; give --content-type text/plain to store it as text`);
  }
}
