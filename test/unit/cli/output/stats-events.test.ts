// docker stats' numbers and table, docker events' lines and templates,
// top's and diff's output: as the docker CLI 28 prints them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffLines } from '../../../../src/cli/commands/container/diff';
import { topTable } from '../../../../src/cli/commands/container/top';
import { eventContext, getTimestamp, parseEvent, prettyEvent } from '../../../../src/cli/output/events';
import { bytesSize, formatStats, redrawFrame, statsEntry } from '../../../../src/cli/output/stats';
import { executeTemplate, parseTemplate } from '../../../../src/cli/output/template';

const sample = {
  name: '/web',
  id: 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
  cpu_stats: { cpu_usage: { total_usage: 3_000_000 }, system_cpu_usage: 200_000_000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 100_000_000 },
  memory_stats: { usage: 10 * 1024 * 1024, limit: 2 * 1024 ** 3, stats: { total_inactive_file: 2 * 1024 * 1024 } },
  blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 4096 }, { op: 'Write', value: 1_500_000 }, { op: 'sync', value: 9 }] },
  pids_stats: { current: 3 },
  networks: { eth0: { rx_bytes: 1000, tx_bytes: 20 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
};

describe('stats output', () => {
  it('computes docker\'s numbers', () => {
    const e = statsEntry('web', sample);
    assert.equal(e.cpuPercentage, 4); // 2e6 / 1e8 * 2 CPUs * 100
    assert.equal(e.memory, 8 * 1024 * 1024); // without the inactive page cache
    assert.equal(e.blockRead, 4096);
    assert.equal(e.blockWrite, 1_500_000);
    assert.equal(e.networkRx, 1500);
    assert.equal(bytesSize(8 * 1024 * 1024), '8MiB');
    assert.equal(bytesSize(1536), '1.5KiB');
    assert.equal(bytesSize(2 * 1024 ** 3), '2GiB');
  });

  it('prints docker\'s table, and "--" for a container without data', () => {
    const text = formatStats('table', [statsEntry('web', sample), { ...statsEntry('gone', {}), invalid: true }], true);
    assert.equal(
      text,
      'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O       BLOCK I/O       PIDS\n' +
        'abcdef012345   web       4.00%     8MiB / 2GiB         0.39%     1.5kB / 20B   4.1kB / 1.5MB   3\n' +
        '               --        --        -- / --             --        --            --              --\n',
    );
    assert.equal(formatStats('{{.Container}}: {{.CPUPerc}}', [statsEntry('web', sample)], true), 'web: 4.00%\n');
    assert.equal(
      formatStats('json', [statsEntry('web', sample)], false),
      '{"BlockIO":"4.1kB / 1.5MB","CPUPerc":"4.00%","Container":"web","ID":"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789","MemPerc":"0.39%","MemUsage":"8MiB / 2GiB","Name":"web","NetIO":"1.5kB / 20B","PIDs":"3"}\n',
    );
  });

  it('redraws like docker 28: home, the table, then again with erase-to-end and erase-below', () => {
    assert.equal(redrawFrame('A\nB\n'), '\x1b[HA\nB\n\x1b[HA \x1b[K\nB \x1b[K\n \x1b[K\n\x1b[J');
  });
});

describe('events output', () => {
  const line = '{"status":"start","id":"c1","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"name":"web","image":"busybox"}},"scope":"local","time":1767225600,"timeNano":1767225600123456789}';

  it('prints docker\'s one-line form with nanoseconds kept exact', () => {
    const prev = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      assert.equal(prettyEvent(parseEvent(line)), '2026-01-01T00:00:00.123456789Z container start c1 (image=busybox, name=web)\n');
    } finally {
      process.env.TZ = prev;
    }
  });

  it('runs templates over events.Message: Go names for fields, JSON names for {{json .}}', () => {
    const e = eventContext(parseEvent(line));
    assert.equal(executeTemplate(parseTemplate('{{.Status}} {{.ID}} {{.From}} {{.Actor.Attributes.name}} {{.TimeNano}}'), e), 'start c1 busybox web 1767225600123456789');
    assert.equal(executeTemplate(parseTemplate('{{json .}}'), e), '{"status":"start","id":"c1","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"image":"busybox","name":"web"}},"scope":"local","time":1767225600,"timeNano":1767225600123456789}');
    assert.equal(executeTemplate(parseTemplate('{{json .}}'), eventContext({})), '{"Type":"","Action":"","Actor":{"ID":"","Attributes":null},"scope":"","time":0,"timeNano":0}');
  });

  it('turns --since/--until into what docker sends', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    assert.equal(getTimestamp('10m', now), String(now / 1000 - 600));
    assert.equal(getTimestamp('1767225600', now), '1767225600');
    assert.equal(getTimestamp('1767225600.5', now), '1767225600.5');
    assert.equal(getTimestamp('2026-01-01T00:00:00Z', now), '1767225600.000000000');
    assert.equal(getTimestamp('2026-01-01T01:00:00.25+01:00', now), '1767225600.250000000');
    assert.throws(() => getTimestamp('soon', now), /failed to parse value as time or duration: "soon"/);
  });
});

describe('top and diff output', () => {
  it('top: the daemon\'s titles and rows through a tabwriter of min width 20', () => {
    assert.equal(
      topTable({ Titles: ['UID', 'PID', 'CMD'], Processes: [['root', '1', 'sleep 1000'], ['root', '22', 'sh']] }),
      'UID                 PID                 CMD\nroot                1                   sleep 1000\nroot                22                  sh\n',
    );
  });

  it('diff: a kind letter and the path a line', () => {
    assert.equal(diffLines([{ Kind: 0, Path: '/etc' }, { Kind: 1, Path: '/etc/x' }, { Kind: 2, Path: '/bin/true' }]), 'C /etc\nA /etc/x\nD /bin/true\n');
    assert.equal(diffLines(null), '');
  });
});
