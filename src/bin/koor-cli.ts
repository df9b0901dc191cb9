#!/usr/bin/env node
import { runCli } from '../cli/main.js';

// No top-level await: the same entry also bundles as CommonJS, which loads faster.
void runCli(process.argv);
