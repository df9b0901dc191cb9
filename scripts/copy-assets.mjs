// Copies non-TypeScript files the server ships (dashboard pages, curated rules) next to the
// compiled code, so dist/ is self-contained.
import { cpSync, existsSync } from 'node:fs';

const assets = [['src/dashboard/public', 'dist/src/dashboard/public']];
for (const [from, to] of assets) {
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}
