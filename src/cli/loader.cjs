#!/usr/bin/env node
'use strict';
// The koor-cli bin: runs the bundled CLI (koor-cli-bundle.cjs, next to this file) with V8's
// code cache, so that most runs skip parsing and compiling it. Agents start the CLI hundreds
// of times a session; see docs/cli.md, "Start-up speed". Node 20 has no built-in module
// compile cache, hence this small loader.
//
// The cache lives in the user's own cache folder ($XDG_CACHE_HOME or ~/.cache, /koor-cli),
// named after the bundle's size and time and the Node version, so a new build or a new Node
// never reuses an old cache, and V8 checks it once more and rejects anything that does not fit.
// Any problem with the cache only means a run without it.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const bundle = path.join(__dirname, 'koor-cli-bundle.cjs');
const text = fs.readFileSync(bundle, 'utf8');
// The bundle keeps the entry's `#!` line, which is not JavaScript inside a function wrapper.
const source = text.startsWith('#!') ? '//' + text.slice(2) : text;

function cacheFile() {
  if (process.env.KOOR_CLI_CODE_CACHE === '0') return undefined;
  const home = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, '.cache') : '');
  if (!home) return undefined;
  const stat = fs.statSync(bundle);
  const name = `bundle-${stat.size}-${Math.floor(stat.mtimeMs)}-${process.version}-${process.arch}.v8cache`;
  return path.join(home, 'koor-cli', name);
}

let file;
let cachedData;
try {
  file = cacheFile();
  if (file) cachedData = fs.readFileSync(file);
} catch {
  cachedData = undefined;
}

const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });

if (file && (cachedData === undefined || script.cachedDataRejected)) {
  // Written at exit, when the functions this run needed are compiled and can be cached too.
  process.once('exit', () => {
    try {
      const dir = path.dirname(file);
      // One level at a time: a recursive mkdir can spin forever on odd file systems (/proc).
      for (const level of [path.dirname(dir), dir]) {
        try {
          fs.mkdirSync(level, { mode: 0o700 });
        } catch (err) {
          if (err.code !== 'EEXIST') throw err;
        }
      }
      for (const old of fs.readdirSync(dir)) if (old.startsWith('bundle-') && old !== path.basename(file)) fs.rmSync(path.join(dir, old), { force: true });
      const temp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(temp, file);
    } catch {
      // No cache this time.
    }
  });
}

const bundleModule = new Module(bundle, module);
bundleModule.filename = bundle;
bundleModule.paths = Module._nodeModulePaths(__dirname);
script.runInThisContext()(bundleModule.exports, require, bundleModule, bundle, __dirname);
