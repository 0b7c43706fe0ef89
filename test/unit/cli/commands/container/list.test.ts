import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayPorts, formatContainers } from '../../../../../src/cli/commands/container/list';

describe('ps table', () => {
  const now = 1_700_000_000_000;
  it('matches docker for the default format', () => {
    const out = formatContainers(
      [
        {
          Id: 'a'.repeat(64),
          Names: ['/web', '/other/alias'],
          Image: 'docker.io/library/busybox:latest',
          ImageID: 'sha256:' + 'b'.repeat(64),
          Command: 'sh -c "while true; do sleep 1; done"',
          Created: now / 1000 - 5,
          Status: 'Up 3 seconds',
          Ports: [],
        },
        {
          Id: 'c'.repeat(64),
          Names: ['/db'],
          Image: 'sha256:' + 'd'.repeat(64),
          ImageID: 'sha256:' + 'd'.repeat(64),
          Command: 'true',
          Created: now / 1000 - 120,
          Status: 'Exited (0) 2 minutes ago',
        },
      ],
      { trunc: true, now },
    );
    assert.equal(
      out,
      [
        'CONTAINER ID   IMAGE            COMMAND                   CREATED         STATUS                     PORTS     NAMES',
        'aaaaaaaaaaaa   busybox:latest   "sh -c \\"while true; …"   5 seconds ago   Up 3 seconds                         web',
        'cccccccccccc   dddddddddddd     "true"                    2 minutes ago   Exited (0) 2 minutes ago             db',
        '',
      ].join('\n'),
    );
  });

  it('formats ports like docker', () => {
    assert.equal(
      displayPorts([
        { PrivatePort: 80, Type: 'tcp' },
        { PrivatePort: 81, Type: 'tcp' },
        { PrivatePort: 53, Type: 'udp' },
        { IP: '0.0.0.0', PrivatePort: 8080, PublicPort: 32768, Type: 'tcp' },
      ]),
      '53/udp, 80-81/tcp, 0.0.0.0:32768->8080/tcp',
    );
  });
});
