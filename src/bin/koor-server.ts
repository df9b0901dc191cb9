#!/usr/bin/env node
import { runServer } from '../server/run.js';

await runServer(process.argv.slice(2));
