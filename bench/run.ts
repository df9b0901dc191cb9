// `npm run bench`: runs every bench/*.bench.js section in one process, one after another, on
// this machine, and prints each section's figures next to the baseline it measured in the same
// run. Sections export `run(report)`; `report` prints one line. Pass section names to run only
// those (`npm run bench -- state events`).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Report = (line: string) => void;

const here = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const sections = readdirSync(here)
  .filter((file) => /\.bench\.(js|ts)$/.test(file))
  .sort()
  .filter((file) => wanted.length === 0 || wanted.includes(file.split('.')[0]!));

for (const file of sections) {
  const name = file.split('.')[0]!;
  console.log(`\n== ${name} ==`);
  const section = (await import(new URL(file, import.meta.url).href)) as { run(report: Report): Promise<void> };
  await section.run((line) => console.log(`  ${line}`));
}
