// Runs every compiled test file with node's built-in runner. Node 20 has no glob support in
// `node --test`, so the files are collected here. Extra arguments are passed through
// (e.g. `npm test -- --test-name-pattern=state`).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (entry.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = [...collect('dist/src'), ...collect('dist/test')].sort();
if (files.length === 0) {
  console.error('no test files found under dist/: run `npm run build` first');
  process.exit(1);
}
// `*.serial.test.js` files disturb what runs beside them (one restarts PostgreSQL): they run
// after all the others, one at a time.
const serial = files.filter((file) => file.endsWith('.serial.test.js'));
const parallel = files.filter((file) => !serial.includes(file));
const run = (list, concurrency) =>
  spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...process.argv.slice(2), ...list],
    { stdio: 'inherit' },
  ).status ?? 1;
const parallelStatus = run(parallel, 2);
const serialStatus = serial.length > 0 ? run(serial, 1) : 0;
process.exit(parallelStatus || serialStatus);
