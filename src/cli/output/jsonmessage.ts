// Prints a daemon JSON message stream (pull, push, import, load) the way
// docker's jsonmessage.DisplayJSONMessagesStream does:
//  - on a terminal, one line per layer id, rewritten in place with a
//    progress bar ("<id>: Downloading [==>   ]  1.2MB/3.4MB"); berth adds the
//    transfer speed ("12.3MB/s") at the end of the line;
//  - otherwise plain status lines, without the progress updates.
// An {"errorDetail": …} in the stream ends the display with that error.
import type { Readable, Writable } from 'node:stream';
import type { JSONMessage } from '../../api/types';
import { humanSize } from './format';

export class JSONMessageError extends Error {
  readonly code: number | undefined;
  constructor(message: string, code?: number) {
    super(message);
    this.name = 'JSONMessageError';
    this.code = code;
  }
}

export interface ProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

type Message = Omit<JSONMessage, 'progressDetail'> & {
  progressDetail?: ProgressDetail | null;
  from?: string;
  time?: number;
  timeNano?: number;
};

export interface DisplayOptions {
  // Render progress bars and move the cursor (stdout is a terminal).
  isTerminal?: boolean;
  // Terminal width; docker assumes 200 when it cannot tell.
  columns?: number;
  // Receives every {"aux": …} message (they are not printed).
  onAux?: (aux: unknown) => void;
  // Receives every message before it is shown.
  onMessage?: (m: JSONMessage) => void;
  // Show transfer speed on progress lines (terminal only). Default true.
  speed?: boolean;
  // Milliseconds clock, for tests.
  now?: () => number;
}

const ESC = '\x1b[';
const cursorUp = (n: number) => (n > 0 ? `${ESC}${n}A` : '');
const cursorDown = (n: number) => (n > 0 ? `${ESC}${n}B` : '');
const CLEAR_LINE = `${ESC}2K`;

// docker's JSONProgress.String() (without the time-left box: berthd sends no start time).
export function progressString(p: ProgressDetail | null | undefined, width = 200): string {
  if (!p) return '';
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current, 4).padStart(8);
  let pct = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (pct > 50) pct = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  let numbers = '';
  if (p.hidecounts) numbers = '';
  else if (!p.units) {
    numbers = `${humanSize(current, 4).padStart(8)}/${humanSize(total, 4)}`;
    if (current > total) numbers = humanSize(current, 4).padStart(8);
  } else {
    numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  return bar + numbers;
}

// Bytes per second over the last few seconds of one layer's transfer.
class RateMeter {
  private samples: { t: number; n: number }[] = [];
  private status = '';

  add(status: string, t: number, n: number): void {
    if (status !== this.status || (this.samples.length && n < this.samples[this.samples.length - 1].n)) this.samples = [];
    this.status = status;
    this.samples.push({ t, n });
    while (this.samples.length > 2 && t - this.samples[0].t > 3000) this.samples.shift();
  }

  rate(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    const dt = b.t - a.t;
    if (dt < 200) return undefined;
    return ((b.n - a.n) * 1000) / dt;
  }
}

export function formatSpeed(bytesPerSecond: number): string {
  return `${humanSize(Math.max(0, bytesPerSecond), 3)}/s`;
}

export class JSONMessageDisplay {
  private ids = new Map<string, number>();
  private meters = new Map<string, RateMeter>();
  private readonly tty: boolean;
  private readonly width: number;
  private readonly speed: boolean;
  private readonly now: () => number;

  constructor(private out: Writable, private opts: DisplayOptions = {}) {
    this.tty = !!opts.isTerminal;
    // As docker: the terminal's width when it can be read (even 0), else 200.
    this.width = typeof opts.columns === 'number' && opts.columns >= 0 ? opts.columns : 200;
    this.speed = opts.speed ?? true;
    this.now = opts.now ?? Date.now;
  }

  handle(raw: JSONMessage): void {
    const m = raw as Message;
    this.opts.onMessage?.(raw);
    if (m.aux !== undefined && m.aux !== null) {
      this.opts.onAux?.(m.aux);
      return;
    }
    const hasProgress = m.progressDetail !== undefined && m.progressDetail !== null;
    let diff = 0;
    if (m.id && (hasProgress || m.progress)) {
      let line = this.ids.get(m.id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(m.id, line);
        if (this.tty) this.out.write('\n');
      }
      diff = this.ids.size - line;
      if (this.tty) this.out.write(cursorUp(diff));
    } else {
      this.ids.clear();
    }
    try {
      this.display(m, hasProgress);
    } finally {
      if (m.id && this.tty) this.out.write(cursorDown(diff));
    }
  }

  private display(m: Message, hasProgress: boolean): void {
    if (m.errorDetail || m.error) throw new JSONMessageError(m.errorDetail?.message || m.error || '', m.errorDetail?.code);
    let endl = '';
    let s = '';
    if (this.tty && !m.stream && hasProgress) {
      s += `${CLEAR_LINE}\r`;
      endl = '\r';
    } else if (hasProgress && progressString(m.progressDetail, this.width) !== '') {
      return; // no progress bars off a terminal
    }
    if (m.id) s += `${m.id}: `;
    if (m.from) s += `(from ${m.from}) `;
    if (hasProgress && this.tty) {
      const status = m.status ?? '';
      let line = `${status} ${progressString(m.progressDetail, this.width)}`;
      const speed = this.speedFor(m);
      const visible = (m.id ? m.id.length + 2 : 0) + (m.from ? m.from.length + 8 : 0) + line.length;
      // Only when it fits: a wrapped line breaks the cursor arithmetic.
      if (speed && (this.width === 0 || visible + 1 + speed.length < this.width)) line += ` ${speed}`;
      s += line + endl;
    } else if (m.progress) {
      s += `${m.status ?? ''} ${m.progress}${endl}`;
    } else if (m.stream) {
      s += `${m.stream}${endl}`;
    } else {
      s += `${m.status ?? ''}${endl}\n`;
    }
    this.out.write(s);
  }

  private speedFor(m: Message): string | undefined {
    if (!this.speed || !m.id) return undefined;
    const p = m.progressDetail;
    const current = p?.current ?? 0;
    if (!p || current <= 0 || p.units) {
      this.meters.delete(m.id);
      return undefined;
    }
    let meter = this.meters.get(m.id);
    if (!meter) this.meters.set(m.id, (meter = new RateMeter()));
    meter.add(m.status ?? '', this.now(), current);
    if (p.total && current >= p.total) return undefined;
    const r = meter.rate();
    return r === undefined ? undefined : formatSpeed(r);
  }
}

// Decodes concatenated or newline-separated JSON objects (as Go's json.Decoder).
export class JSONStreamDecoder {
  private buf = '';

  push(chunk: string, emit: (m: JSONMessage) => void): void {
    this.buf += chunk;
    for (;;) {
      const start = this.buf.search(/\S/);
      if (start < 0) {
        this.buf = '';
        return;
      }
      const end = objectEnd(this.buf, start);
      if (end < 0) {
        this.buf = this.buf.slice(start);
        return;
      }
      const text = this.buf.slice(start, end);
      this.buf = this.buf.slice(end);
      let m: JSONMessage;
      try {
        m = JSON.parse(text);
      } catch {
        throw new JSONMessageError(`invalid character in progress stream: ${text.slice(0, 200)}`);
      }
      emit(m);
    }
  }

  end(): void {
    if (this.buf.trim()) throw new JSONMessageError('unexpected EOF');
  }
}

// The index after the JSON value starting at `start`, or -1 if incomplete.
function objectEnd(s: string, start: number): number {
  const open = s[start];
  if (open !== '{' && open !== '[') {
    // A scalar: up to the next whitespace.
    const m = /\s/.exec(s.slice(start));
    return m ? start + m.index : -1;
  }
  let depth = 0;
  let inStr = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

// Reads the stream to its end and displays every message.
export async function displayStream(src: Readable, out: Writable, opts: DisplayOptions = {}): Promise<void> {
  const display = new JSONMessageDisplay(out, opts);
  const dec = new JSONStreamDecoder();
  src.setEncoding('utf8');
  for await (const chunk of src) dec.push(chunk as string, (m) => display.handle(m));
  dec.end();
}

// Terminal settings of an output stream (process.stdout, or a test double).
export function terminalOf(w: Writable): { isTerminal: boolean; columns?: number } {
  const t = w as Writable & { isTTY?: boolean; columns?: number };
  return { isTerminal: t.isTTY === true, columns: t.columns };
}
