// Entry point of the `berth` executable (bundled into dist/berth.js).
import { runCli } from './cli';

// Exits once stdout has drained, even if stdin is still open.
function exit(code: number): void {
  const done = () => process.exit(code);
  if (process.stdout.writableLength > 0) process.stdout.once('drain', done);
  else done();
}

// Output to a closed pipe (`berth ps | head -1`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const io = {
  out: process.stdout,
  err: process.stderr,
  // Made on first use: creating process.stdin costs ~2 ms at start.
  get in() {
    return process.stdin;
  },
  env: process.env,
};

runCli(process.argv.slice(2), io).then(exit, (err) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.stack : String(err)}\n`);
  exit(1);
});
