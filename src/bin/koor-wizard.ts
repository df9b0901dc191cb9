#!/usr/bin/env node
import { runWizard } from '../wizard/wizard.js';

process.exitCode = await runWizard(process.argv.slice(2));
