// `npm run bench`: runs every bench/*.bench.js section in one process, one after another, on
// this machine, prints each section's figures next to the floors and peers it measured in the
// same run, and closes with the targets as a PASS/MISS table of same-run ratios.
//
//   npm run bench                         every section (a few minutes)
//   npm run bench -- state events         only those sections
//   npm run bench -- --rounds 11          more interleaved rounds per figure (default 5)
//   npm run bench -- --round-seconds 2    longer throughput rounds (default 1 s)
//   npm run bench -- --no-install         skip a missing peer instead of installing it
//   npm run bench -- soak --seconds 600   the soak bench alone (default 60 s; see soak.ts);
//                                         --scale 0.25 runs its mix at a quarter of the rates
import { readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ratioText, type Bench, type BenchOptions, type Target } from './common.js';

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        rounds: { type: 'string', default: '5' },
        'round-seconds': { type: 'string', default: '1' },
        seconds: { type: 'string', default: '60' },
        'report-every': { type: 'string', default: '5' },
        scale: { type: 'string', default: '1' },
        'no-install': { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: npm run bench [-- SECTION…] [--rounds N] [--round-seconds S] [--no-install]\n       npm run bench -- soak [--seconds S] [--report-every S] [--scale F]`);
    process.exit(2);
  }
}
const { values, positionals } = parseCommandLine();

function positive(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${flag} must be a positive number, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const options: BenchOptions = {
  rounds: Math.round(positive('rounds', values.rounds!)),
  roundSeconds: positive('round-seconds', values['round-seconds']!),
  install: !values['no-install'],
};
const report = (line: string) => console.log(`  ${line}`);

if (positionals.includes('soak')) {
  const soak = (await import(new URL(`soak.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href)) as typeof import('./soak.js');
  console.log('\n== soak ==');
  await soak.run(report, { seconds: positive('seconds', values.seconds!), reportEvery: positive('report-every', values['report-every']!), scale: positive('scale', values.scale!) });
  process.exit(0);
}

const here = fileURLToPath(new URL('.', import.meta.url));
const sections = readdirSync(here)
  .filter((file) => /\.bench\.(js|ts)$/.test(file))
  .sort()
  .filter((file) => positionals.length === 0 || positionals.includes(file.split('.')[0]!));
if (sections.length === 0) {
  console.error(`no bench section named ${positionals.join(', ')}`);
  process.exit(2);
}

/** The machine's load, to read the figures by: a ratio taken on a saturated machine is noise. */
function loadLine(when: string): string {
  const [one] = loadavg();
  const cores = cpus().length;
  return `load average ${when}: ${one!.toFixed(1)} on ${cores} cores${one! > cores ? ' (busy: other processes compete for the cores; ratios move a lot from round to round)' : ''}`;
}

const targets: Target[] = [];
console.log(loadLine('at start'));
const bench: Bench = { report, options, target: (target) => targets.push(target) };
const started = Date.now();
for (const file of sections) {
  const name = file.split('.')[0]!;
  console.log(`\n== ${name} ==`);
  const section = (await import(new URL(file, import.meta.url).href)) as { run(bench: Bench): Promise<void> };
  await section.run(bench);
}

if (targets.length) {
  console.log(`\n== targets: same-run ratios, medians of ${options.rounds} rounds (${((Date.now() - started) / 1000).toFixed(0)} s in all) ==`);
  const rows = targets.map((t) => {
    const met = t.kind === 'min' ? t.ratio >= t.goal : t.ratio <= t.goal;
    return [
      t.skipped ? 'SKIP' : met ? 'PASS' : 'MISS',
      t.name,
      t.skipped ? '–' : ratioText(t.ratio),
      `${t.kind === 'min' ? '≥' : '≤'} ${ratioText(t.goal)}`,
      t.floor ?? '',
      t.skipped ?? t.detail,
    ];
  });
  const header = ['', 'target', 'measured', 'goal', 'floor reaches', 'figures'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) report(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}
console.log(loadLine('at the end'));
