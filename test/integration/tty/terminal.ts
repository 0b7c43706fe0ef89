// A command on a real terminal, as a person runs the docker CLI or berth:
// pty-run.py holds the pty pair; we type into it, resize it, signal the
// command, and read what the terminal shows. Shared by the TTY tests.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from '../harness';

const PTY_RUN = path.join(ROOT, 'test', 'integration', 'tty', 'pty-run.py');

export class Terminal {
  private child: ChildProcess;
  private out = '';
  private seen = 0;
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number>;

  constructor(env: NodeJS.ProcessEnv, argv: string[], rows = 30, cols = 90) {
    this.child = spawn('python3', [PTY_RUN, String(rows), String(cols), ...argv], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout!.on('data', (c: Buffer) => {
      this.out += c.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code ?? -1)));
  }

  private send(msg: object): void {
    this.child.stdin!.write(JSON.stringify(msg) + '\n');
  }

  type(text: string): void {
    this.send({ in: text });
  }

  // Keys one at a time, as a person types them (the client side of the
  // detach keys looks at single keystrokes, as docker's does).
  async keys(...keys: string[]): Promise<void> {
    for (const k of keys) {
      this.type(k);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // The terminal's new size; the kernel sends the command SIGWINCH.
  resize(rows: number, cols: number): void {
    this.send({ size: [rows, cols] });
  }

  signal(sig: number): void {
    this.send({ signal: sig });
  }

  // Resolves with the output up to a match of `re` that appeared after the
  // last wait (what the terminal shows from then on).
  async waitFor(re: RegExp, what: string, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const rest = this.out.slice(this.seen);
      const m = re.exec(rest);
      if (m) {
        this.seen += m.index + m[0].length;
        return rest.slice(0, m.index + m[0].length);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the terminal showed:\n${JSON.stringify(this.out)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  // The command's exit status, once it exits by itself.
  async exit(ms = 20_000): Promise<number> {
    this.child.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exited, new Promise<number>((r) => { timer = setTimeout(() => r(-999), ms); })]);
    clearTimeout(timer);
    if (code === -999) {
      this.child.kill('SIGKILL');
      throw new Error(`the terminal's command did not exit; it showed:\n${JSON.stringify(this.out)}`);
    }
    return code;
  }

  text(): string {
    return this.out;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
