#!/usr/bin/env node
import { runWizard } from '../wizard/wizard.js';

// A reader that went away (`koor-wizard --help | head -1`) ends the run quietly, not with EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runWizard(process.argv.slice(2));
