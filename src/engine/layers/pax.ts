// Binary-safe PAX records on top of tar-stream.
//
// tar-stream decodes and encodes every PAX value as UTF-8, which corrupts
// binary xattr values (security.capability holds raw bytes such as 0x80).
// So the extractor keeps the raw PAX blocks it sees, and the packer writes
// its own PAX block in front of an entry; both through one small hook each
// on a tar-stream instance, checked at creation so a tar-stream upgrade that
// renames them fails loudly instead of silently corrupting capabilities.
import * as tar from 'tar-stream';

export class BadPaxError extends Error {}

// What an entry header may hold when packing (tar-stream fills the rest).
export type TarHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

// Parses PAX extended header data: "<len> <key>=<value>\n" records. Values
// stay raw bytes; keys are UTF-8.
export function decodePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    // Some writers pad the block with NULs.
    if (buf[off] === 0 && buf.subarray(off).every((b) => b === 0)) break;
    const sp = buf.indexOf(0x20, off);
    const lenText = sp < 0 ? '' : buf.toString('latin1', off, sp);
    if (!/^[0-9]{1,8}$/.test(lenText)) throw new BadPaxError('malformed PAX record length');
    const end = off + parseInt(lenText, 10);
    if (end <= sp + 1 || end > buf.length || buf[end - 1] !== 0x0a) throw new BadPaxError('malformed PAX record');
    const rec = buf.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new BadPaxError('malformed PAX record: no key');
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off = end;
  }
  return out;
}

// One record; its length prefix counts its own digits.
export function encodePaxRecord(key: string, value: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
  let digits = 1;
  while (String(body.length + digits).length !== digits) digits++;
  return Buffer.concat([Buffer.from(String(body.length + digits)), body]);
}

export function encodePax(records: Array<[string, Buffer | string]>): Buffer {
  return Buffer.concat(records.map(([k, v]) => encodePaxRecord(k, v)));
}

function writeOctal(block: Buffer, off: number, width: number, value: number): void {
  block.write(value.toString(8).padStart(width - 1, '0') + '\0', off, width, 'latin1');
}

// A ustar header of type 'x' announcing `size` bytes of PAX data.
export function paxHeaderBlock(size: number, mtime: Date): Buffer {
  const block = Buffer.alloc(512);
  block.write('PaxHeader', 0, 100, 'latin1');
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, Math.max(0, Math.floor(mtime.getTime() / 1000)));
  block.write('x', 156, 1, 'latin1');
  block.write('ustar\x0000', 257, 8, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

// An extractor that also hands out the raw PAX records of the current entry
// (global records merged under local ones). Call takePax() once per entry.
export function paxAwareExtract(): { extract: tar.Extract; takePax(): Map<string, Buffer> } {
  // allowUnknownFormat: accept pre-POSIX (v7) headers too, as Go does.
  const extract = tar.extract({ allowUnknownFormat: true } as any) as any;
  const decodeLong = extract._decodeLongHeader;
  if (typeof decodeLong !== 'function') throw new Error('tar-stream internals changed: cannot read raw PAX headers');
  let local: Buffer | null = null;
  let global: Buffer | null = null;
  extract._decodeLongHeader = function (this: any, buf: Buffer) {
    const type = this._header?.type;
    if (type === 'pax-header') local = Buffer.from(buf);
    else if (type === 'pax-global-header') global = Buffer.from(buf);
    return decodeLong.call(this, buf);
  };
  return {
    extract,
    takePax() {
      const merged = global ? decodePax(global) : new Map<string, Buffer>();
      if (local) for (const [k, v] of decodePax(local)) merged.set(k, v);
      local = null;
      return merged;
    },
  };
}

const rawPax = new WeakMap<object, Buffer>();

// A packer whose entries can carry raw PAX data: entry(header, rawPax?, ...).
// The header given must itself fit ustar (the caller puts long or non-ASCII
// names into the PAX records and a placeholder into the header).
export function paxAwarePack(): { pack: tar.Pack; withPax(header: TarHeader, pax: Buffer | null): TarHeader } {
  const pack = tar.pack() as any;
  const encode = pack._encode;
  if (typeof encode !== 'function') throw new Error('tar-stream internals changed: cannot write raw PAX headers');
  pack._encode = function (this: any, header: TarHeader) {
    const data = rawPax.get(header);
    if (data) {
      this.push(paxHeaderBlock(data.length, header.mtime ?? new Date(0)));
      this.push(data);
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) this.push(Buffer.alloc(pad));
    }
    return encode.call(this, header);
  };
  return {
    pack,
    withPax(header, pax) {
      if (pax && pax.length) rawPax.set(header, pax);
      return header;
    },
  };
}
