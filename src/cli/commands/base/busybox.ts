// berth base busybox
import { Readable } from 'node:stream';
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';
import { importTar } from '../image/import';

export const baseBusyboxCommand: Command = {
  name: 'busybox',
  usage: '[OPTIONS]',
  summary: "Import a busybox base image built from the host's busybox binary",
  maxArgs: 0,
  flags: [
    { name: 'tag', type: 'string', default: 'busybox:latest', desc: 'Name and tag for the image' },
    { name: 'binary', type: 'string', default: '/bin/busybox', desc: 'Static busybox binary to use' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    // Loaded on demand: tar-stream is only needed here.
    const { busyboxTar } = await import('../../base/busybox');
    let tar: Readable;
    try {
      tar = busyboxTar(p.flags.binary) as unknown as Readable;
    } catch (err) {
      throw new StatusError(1, `berth: cannot build the busybox image: ${errorText(err)}`);
    }
    // tar-stream's pack is a streamx stream; wrap it for node:http.
    const body = tar instanceof Readable ? tar : Readable.from(tar as AsyncIterable<Buffer>);
    await importTar(ctx, body, p.flags.tag);
    return 0;
  },
};
