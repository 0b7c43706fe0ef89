#!/usr/bin/env node
// bin/berth (copied there by scripts/build.mjs): runs dist/berth.js with V8's
// code cache, so a command does not compile the bundle's functions again on
// every start (about 7 ms of the CLI's start on this machine; Node 20 has no
// module compile cache of its own). The cache is dist/berth.js.cache: a
// header naming the bundle it was made from (size and mtime), then V8's
// data. It is written at exit when missing, stale or refused by V8 (another
// Node, other flags), holding every function that run compiled; where dist/
// is not writable berth just runs without it. V8 checks the data it is given
// too, and refuses data made from other source or flags.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const file = path.join(__dirname, '..', 'dist', 'berth.js');
const cacheFile = `${file}.cache`;
const source = fs.readFileSync(file, 'utf8');
const st = fs.statSync(file);
const header = Buffer.from(`berth-code-cache ${st.size} ${st.mtimeMs}\n`);
let cached;
try {
  const data = fs.readFileSync(cacheFile);
  if (data.subarray(0, header.length).equals(header)) cached = data.subarray(header.length);
} catch {
  // no cache yet
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData: cached });
if (!cached || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`;
      fs.writeFileSync(tmp, Buffer.concat([header, script.createCachedData()]));
      fs.renameSync(tmp, cacheFile);
    } catch {
      // a read-only install: run without the cache
    }
  });
}
const mod = new Module(file, null);
mod.filename = file;
mod.paths = Module._nodeModulePaths(path.dirname(file));
require.main = mod;
process.mainModule = mod;
script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, file, path.dirname(file));
