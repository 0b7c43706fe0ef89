// `docker save`: images as one tar in the combined layout (layout.ts), every
// layer an uncompressed tar whose digest is its diffID.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { failedPrecondition, invalidArgument } from '../../errors';
import { chainIDOf } from '../../oci/layers';
import { fullName, isImageIdLike, parseReference, refString, type Reference } from '../../oci/reference';
import type { ContentStore } from '../content/store';
import { Hasher } from '../content/streams';
import { blobName, buildSaveDocs, hexOf, type SaveDocs, type SaveImage } from './layout';
import type { ImageStore } from './store';
import type { ImageRecord } from './types';

const CHUNK = 256 * 1024;

export interface SaveDeps {
  content: ContentStore;
  imageStore: ImageStore;
  // The uncompressed tar of a layer (ImageService.layerTar).
  layerTar: (diffID: string, chainID: string) => Promise<Readable>;
}

export class ImageSaver {
  constructor(private d: SaveDeps) {}

  // Docker's rules: "repo" takes every tag of that repository, "repo:tag"
  // that tag, an id (or digest reference) the image without tags.
  select(names: string[]): Array<{ rec: ImageRecord; refs: Reference[] }> {
    if (names.length === 0) throw invalidArgument('no image names given to save');
    const picked = new Map<string, { rec: ImageRecord; refs: Reference[] }>();
    const add = (rec: ImageRecord, ref?: Reference) => {
      let p = picked.get(rec.id);
      if (!p) picked.set(rec.id, (p = { rec, refs: [] }));
      if (ref?.tag && !p.refs.some((r) => refString(r) === refString(ref))) p.refs.push({ domain: ref.domain, path: ref.path, tag: ref.tag });
    };
    for (const name of names) {
      let ref: Reference | undefined;
      try {
        ref = parseReference(name);
      } catch (err) {
        if (!isImageIdLike(name)) throw err;
      }
      if (ref && !ref.tag && !ref.digest) {
        const repo = fullName(ref);
        let found = false;
        for (const rec of this.d.imageStore.list()) {
          for (const r of this.d.imageStore.refsOf(rec.id)) {
            if (r.tag && !r.digest && fullName(r) === repo) {
              add(rec, r);
              found = true;
            }
          }
        }
        if (!found) add(this.d.imageStore.resolve(name));
        continue;
      }
      const rec = this.d.imageStore.resolve(name);
      add(rec, ref?.tag ? ref : undefined);
    }
    return [...picked.values()];
  }

  // Resolves the names and gets every layer as an uncompressed tar whose
  // digest is its diffID, failing here, before any byte is sent, if one
  // cannot be had. Returns the archive as a stream; its temp files go when
  // it has been written out or destroyed. onSaved hears each image id once
  // the archive holds all of that image.
  async save(names: string[], onSaved: (id: string) => void = () => {}): Promise<Readable> {
    const selected = this.select(names);
    const tmp = path.join(this.d.content.ingestDir, `save-${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(tmp, { recursive: true });
    const handles: fsp.FileHandle[] = [];
    let cleaned = false;
    const cleanup = async () => {
      if (cleaned) return;
      cleaned = true;
      for (const h of handles) await h.close().catch(() => {});
      await fsp.rm(tmp, { recursive: true, force: true });
    };
    try {
      const layers = new Map<string, { fh: fsp.FileHandle; size: number }>();
      const configs = new Map<string, Buffer>();
      const images: SaveImage[] = [];
      for (const { rec, refs } of selected) {
        const config = await this.d.content.read(rec.id);
        configs.set(rec.id, config);
        const img: SaveImage = { id: rec.id, configSize: config.length, created: rec.config.created, layers: [], refs };
        let chain: string | undefined;
        for (const diffID of rec.config.rootfs.diff_ids) {
          chain = chainIDOf(chain, diffID);
          let l = layers.get(diffID);
          if (!l) {
            l = await this.layerFile(diffID, chain, tmp);
            handles.push(l.fh);
            layers.set(diffID, l);
          }
          img.layers.push({ diffID, size: l.size });
        }
        images.push(img);
      }
      return this.writeArchive(images, configs, layers, buildSaveDocs(images), cleanup, onSaved);
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  // An open handle on the layer's uncompressed tar: the content blob named
  // by the diffID when there is one (import, commit, load); otherwise what
  // ImageService.layerTar gives (a pulled layer's blob decompressed, or the
  // layer packed again), spooled to a temp file so that its size is known
  // for the tar header, and checked against the diffID.
  private async layerFile(diffID: string, chainID: string, tmp: string): Promise<{ fh: fsp.FileHandle; size: number }> {
    try {
      const fh = await fsp.open(this.d.content.blobPath(diffID), 'r');
      return { fh, size: (await fh.stat()).size };
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw err;
    }
    const file = path.join(tmp, hexOf(diffID));
    const hasher = new Hasher();
    await pipeline(await this.d.layerTar(diffID, chainID), hasher, fs.createWriteStream(file, { mode: 0o600 }));
    const got = hasher.digest();
    if (got !== diffID) throw failedPrecondition(`cannot save layer ${diffID}: the tar made from what is stored has digest ${got}`);
    const fh = await fsp.open(file, 'r');
    return { fh, size: hasher.size };
  }

  private writeArchive(
    images: SaveImage[],
    configs: Map<string, Buffer>,
    layers: Map<string, { fh: fsp.FileHandle; size: number }>,
    docs: SaveDocs,
    cleanup: () => Promise<void>,
    onSaved: (id: string) => void,
  ): Readable {
    const pack = tar.pack();
    pack.on('error', () => {}); // the consumer hears it through its pipeline
    let closed = false;
    const onClose = new Promise<void>((resolve) =>
      pack.once('close', () => {
        closed = true;
        resolve();
      }),
    );
    void onClose.then(cleanup);
    const epoch = new Date(0);
    const when = (t?: string) => {
      const ms = t ? Date.parse(t) : NaN;
      return Number.isFinite(ms) && ms > 0 ? new Date(Math.floor(ms / 1000) * 1000) : epoch;
    };
    const gone = () => new Error('archive stream closed');
    // An entry's errors (the pack destroyed when the client goes away) also
    // reach its callback; unheard 'error' events would kill the daemon.
    const quiet = <T extends { on(ev: 'error', fn: (err: Error) => void): unknown }>(sink: T): T => {
      sink.on('error', () => {});
      return sink;
    };
    const put = (name: string, data: Buffer, mtime: Date) =>
      new Promise<void>((resolve, reject) => {
        if (closed) return reject(gone());
        quiet(pack.entry({ name, type: 'file', size: data.length, mode: 0o644, mtime }, data, (err) => (err ? reject(err) : resolve())));
      });
    const dir = (name: string) =>
      new Promise<void>((resolve, reject) => {
        if (closed) return reject(gone());
        quiet(pack.entry({ name, type: 'directory', mode: 0o755, mtime: epoch }, (err) => (err ? reject(err) : resolve())));
      });
    const putFile = (name: string, fh: fsp.FileHandle, size: number, mtime: Date) =>
      new Promise<void>((resolve, reject) => {
        if (closed) return reject(gone());
        const sink = quiet(pack.entry({ name, type: 'file', size, mode: 0o644, mtime }, (err) => (err ? reject(err) : resolve())));
        (async () => {
          let off = 0;
          while (off < size) {
            const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - off));
            const { bytesRead } = await fh.read(buf, 0, buf.length, off);
            if (bytesRead === 0) throw new Error(`${name} shrank while saving`);
            off += bytesRead;
            if (closed) throw gone();
            if (!sink.write(buf.subarray(0, bytesRead))) await Promise.race([new Promise<void>((r) => sink.once('drain', () => r())), onClose]);
          }
          sink.end(undefined);
        })().catch((err) => {
          sink.destroy(err);
          reject(err);
        });
      });

    (async () => {
      await dir('blobs/');
      await dir('blobs/sha256/');
      const written = new Set<string>();
      for (const img of images) {
        const mtime = when(img.created);
        for (const l of img.layers) {
          if (written.has(l.diffID)) continue; // shared layers once
          written.add(l.diffID);
          const src = layers.get(l.diffID)!;
          await putFile(blobName(l.diffID), src.fh, src.size, mtime);
        }
        if (!written.has(img.id)) {
          written.add(img.id);
          await put(blobName(img.id), configs.get(img.id)!, mtime);
          onSaved(img.id);
        }
      }
      for (const m of docs.manifests) {
        if (written.has(m.digest)) continue;
        written.add(m.digest);
        await put(blobName(m.digest), m.data, epoch);
      }
      await put('index.json', docs.index, epoch);
      await put('manifest.json', docs.manifestJSON, epoch);
      await put('oci-layout', docs.ociLayout, epoch);
      if (docs.repositories) await put('repositories', docs.repositories, epoch);
      pack.finalize();
    })()
      .catch((err) => pack.destroy(err))
      // Every byte has been read into the pack: the files can go.
      .finally(() => void cleanup());
    return pack as unknown as Readable;
  }
}
