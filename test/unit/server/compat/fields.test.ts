// The create body's field table against the Engine API 1.51 spec (the copy in
// third_party/), and the table's own rules.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { BerthError } from '../../../../src/errors';
import { compatibilityMarkdown } from '../../../../src/server/compat/doc';
import { checkFields, checkTypes, CREATE_FIELDS, isZero, type CreateBodyView } from '../../../../src/server/compat/fields';
import { projectRoot } from '../../../../src/util/paths';

const ROOT = projectRoot();
const spec = parse(fs.readFileSync(path.join(ROOT, 'third_party/docker-engine-api/docker-engine-api-1.51.yaml'), 'utf8'));

type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, Schema>; type?: string };

function props(s: Schema): Record<string, Schema> {
  if (s.$ref) return props(spec.definitions[s.$ref.split('/').pop()!]);
  const out: Record<string, Schema> = {};
  for (const part of s.allOf ?? []) Object.assign(out, props(part));
  return Object.assign(out, s.properties ?? {});
}

const SECTIONS: [string, string][] = [['Config', 'ContainerConfig'], ['HostConfig', 'HostConfig'], ['NetworkingConfig', 'NetworkingConfig']];

// The JSON type a spec property takes ($refs are objects in these definitions).
function specType(s: Schema): string {
  return s.type ?? (s.$ref || s.allOf ? 'object' : 'unknown');
}

const COMPATIBLE: Record<string, string[]> = {
  string: ['string'],
  boolean: ['boolean'],
  integer: ['integer'],
  array: ['strings', 'strOrStrings', 'array'],
  object: ['object', 'stringmap', 'map'],
};

const isInvalid = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, re);
  return true;
};

const view = (config: Record<string, unknown>, hostConfig: Record<string, unknown> = {}): CreateBodyView => ({ config, hostConfig });

describe('the create field table', () => {
  test('has every field of ContainerConfig, HostConfig and NetworkingConfig in the 1.51 spec, with a compatible type', () => {
    const missing: string[] = [];
    for (const [section, def] of SECTIONS) {
      for (const [name, schema] of Object.entries(props(spec.definitions[def]))) {
        const rule = CREATE_FIELDS[`${section}.${name}`];
        if (!rule) {
          missing.push(`${section}.${name}`);
          continue;
        }
        assert.ok(COMPATIBLE[specType(schema)]?.includes(rule.type), `${section}.${name}: spec type ${specType(schema)}, table type ${rule.type}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('names no field the spec lacks', () => {
    const known = new Set(SECTIONS.flatMap(([section, def]) => Object.keys(props(spec.definitions[def])).map((n) => `${section}.${n}`)));
    assert.deepEqual(Object.keys(CREATE_FIELDS).filter((k) => !known.has(k)), []);
  });

  test('gives a note to every field that is not plainly applied', () => {
    for (const [k, r] of Object.entries(CREATE_FIELDS)) if (r.status !== 'applied') assert.ok(r.note, k);
  });

  test('generates docs/COMPATIBILITY.md as committed (regenerate: npx tsc -p . && node scripts/compat-doc.mjs)', () => {
    assert.equal(fs.readFileSync(path.join(ROOT, 'docs/COMPATIBILITY.md'), 'utf8'), compatibilityMarkdown());
  });
});

describe('checkFields', () => {
  // What docker CLI 28 sends for `docker run busybox true`, recorded.
  const dockerRun = {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false, StdinOnce: false,
    Env: null, Cmd: ['true'], Image: 'busybox', Volumes: {}, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {},
  };
  const dockerHost = {
    Binds: null, ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default', PortBindings: {}, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [],
    ExtraHosts: null, GroupAdd: null, IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false,
    SecurityOpt: null, UTSMode: '', UsernsMode: '', ShmSize: 0, Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0,
    BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0,
    CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0,
    MemorySwap: 0, MemorySwappiness: -1, OomKillDisable: false, PidsLimit: 0, Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    MaskedPaths: null, ReadonlyPaths: null,
  };
  const networking = {
    EndpointsConfig: {
      default: { IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null },
    },
  };

  test('accepts what the docker CLI sends for a plain run: every field, all zero', () => {
    checkTypes(view(dockerRun, dockerHost), networking);
    checkFields(view(dockerRun, dockerHost), networking);
  });

  test('refuses a non-zero value of each refused field by name', () => {
    const values: Record<string, unknown> = { integer: 5, boolean: true, string: 'x', strings: ['x'], strOrStrings: ['x'], stringmap: { a: 'b' }, map: { '/x': {} }, object: { a: 1 }, array: [{ a: 1 }] };
    for (const [key, rule] of Object.entries(CREATE_FIELDS)) {
      if (rule.status !== 'refused') continue;
      const [section, name] = key.split('.');
      let v = values[rule.type];
      if (key === 'HostConfig.CpusetCpus' || key === 'HostConfig.CpusetMems') v = '0';
      if (key === 'HostConfig.PortBindings') v = { '80/tcp': [{ HostPort: '8080' }] };
      if (key === 'HostConfig.BlkioWeight') v = 500;
      if (key === 'HostConfig.Tmpfs') v = { '/run': '' };
      const body = section === 'Config' ? view({ [name]: v }) : view({}, { [name]: v });
      assert.throws(() => checkFields(body, undefined), isInvalid(new RegExp(`^${key.replace('.', '\\.')} is not supported yet$`)), key);
    }
  });

  test('refuses non-zero Windows-only fields, and accepts their zero values', () => {
    assert.throws(() => checkFields(view({}, { CpuCount: 2 }), undefined), isInvalid(/^HostConfig\.CpuCount is not supported yet$/));
    assert.throws(() => checkFields(view({ ArgsEscaped: true }), undefined), isInvalid(/Config\.ArgsEscaped/));
    checkFields(view({}, { CpuCount: 0, ContainerIDFile: '/tmp/cid' }), undefined); // ContainerIDFile is the client's business
  });

  test('partial fields: applied values pass, the others are refused naming field and value', () => {
    const ok: [Record<string, unknown>, Record<string, unknown>][] = [
      [{}, { NetworkMode: 'host' }], [{}, { NetworkMode: 'none' }], [{}, { NetworkMode: 'container:web' }],
      [{}, { RestartPolicy: { Name: 'no' } }], [{}, { RestartPolicy: { Name: 'always' } }], [{}, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }], [{}, { RestartPolicy: { Name: '', MaximumRetryCount: 3 } }], [{}, { LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } } }], [{}, { LogConfig: { Type: 'local', Config: {} } }], [{}, { LogConfig: { Type: 'none', Config: null } }],
      [{}, { SecurityOpt: ['seccomp=unconfined'] }], [{}, { SecurityOpt: ['seccomp:unconfined'] }], [{}, { SecurityOpt: ['seccomp=builtin'] }],
      [{}, { IpcMode: 'host' }], [{}, { IpcMode: 'shareable' }], [{}, { PidMode: 'host' }], [{}, { PidMode: 'container:web' }], [{}, { UTSMode: 'host' }],
      [{}, { UsernsMode: 'host' }], [{}, { Isolation: 'default' }], [{}, { CgroupnsMode: 'private' }],
      [{ Healthcheck: { Test: ['NONE'] } }, {}], [{ Healthcheck: { Test: [] } }, {}], [{ Healthcheck: { Test: ['CMD', 'true'] } }, {}],
    ];
    for (const [c, h] of ok) checkFields(view(c, h), undefined);
    const bad: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{}, { LogConfig: { Type: 'syslog' } }, /^berth does not implement the syslog log driver yet/],
      [{}, { LogConfig: { Type: 'k8s-file' } }, /^logger: no log driver named 'k8s-file' is registered$/],
      [{}, { SecurityOpt: ['apparmor=docker-default'] }, /^HostConfig\.SecurityOpt "apparmor=docker-default" is not supported: berth loads no AppArmor profiles/],
      [{}, { SecurityOpt: ['label=user:system_u'] }, /^HostConfig\.SecurityOpt "label=user:system_u" is not supported: berth sets no SELinux labels/],
      [{}, { SecurityOpt: ['nope=1'] }, /^invalid --security-opt 2: "nope=1"$/],
      [{}, { IpcMode: 'none' }, /HostConfig\.IpcMode "none" is not supported yet/],
      [{}, { UsernsMode: 'keep-id' }, /HostConfig\.UsernsMode "keep-id" is not supported yet/],
      [{}, { Isolation: 'hyperv' }, /HostConfig\.Isolation "hyperv" is not supported yet/],
    ];
    for (const [c, h, re] of bad) assert.throws(() => checkFields(view(c, h), undefined), isInvalid(re), JSON.stringify([c, h]));
  });

  test('malformed values are 400s naming the field, whatever the status', () => {
    const bad: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{}, { RestartPolicy: { Name: 'bogus' } }, /^invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'$/],
      [{}, { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }, /^invalid restart policy: maximum retry count can only be used with 'on-failure'$/],
      [{}, { RestartPolicy: { Name: 'no', MaximumRetryCount: -1 } }, /^invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative$/],
      [{}, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }, /^invalid restart policy: maximum retry count cannot be negative$/],
      [{}, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 1.5 } }, /MaximumRetryCount of type int/],
      [{ StopSignal: 'SIGBOGUS' }, {}, /invalid Config\.StopSignal "SIGBOGUS"/],
      [{}, { PortBindings: { '80/tcp': [{ HostPort: '99999' }] } }, /invalid HostConfig\.PortBindings host port "99999"/],
      [{}, { PortBindings: { 'eighty/tcp': [] } }, /invalid HostConfig\.PortBindings port "eighty\/tcp"/],
      [{}, { Tmpfs: { run: '' } }, /invalid HostConfig\.Tmpfs mount point "run"/],
      [{ Healthcheck: { Test: 5 } }, {}, /Config\.Healthcheck\.Test/],
      // dockerd's validateHealthCheck, in its order and words.
      [{ Healthcheck: { Interval: -10_000_000 } }, {}, /^Interval in Healthcheck cannot be less than 1ms$/],
      [{ Healthcheck: { Interval: 500_000 } }, {}, /^Interval in Healthcheck cannot be less than 1ms$/],
      [{ Healthcheck: { Timeout: -100_000_000 } }, {}, /^Timeout in Healthcheck cannot be less than 1ms$/],
      [{ Healthcheck: { Retries: -10 } }, {}, /^Retries in Healthcheck cannot be negative$/],
      [{ Healthcheck: { StartPeriod: 100 } }, {}, /^StartPeriod in Healthcheck cannot be less than 1ms$/],
      [{ Healthcheck: { StartInterval: 100 } }, {}, /^StartInterval in Healthcheck cannot be less than 1ms$/],
      [{ Healthcheck: { Interval: 1.5 } }, {}, /Config\.Healthcheck\.Interval of type int64/],
      [{ Healthcheck: { Test: ['RUN', 'true'] } }, {}, /unknown type "RUN"/],
      [{ Healthcheck: { Test: ['CMD'] } }, {}, /CMD needs a command/],
      [{}, { PidMode: 'bogus' }, /invalid HostConfig\.PidMode "bogus"/],
      [{}, { PidMode: 'container:' }, /invalid HostConfig\.PidMode "container:"/],
      [{}, { ConsoleSize: [-1, 80] }, /invalid HostConfig\.ConsoleSize \[-1,80\]/],
      [{}, { ConsoleSize: [24.5, 80] }, /invalid HostConfig\.ConsoleSize/],
    ];
    for (const [c, h, re] of bad) assert.throws(() => checkFields(view(c, h), undefined), isInvalid(re), JSON.stringify([c, h]));
  });

  test('an unknown field is refused unless zero', () => {
    checkFields(view({ SomethingNew: 0 }, { AlsoNew: null }), undefined);
    assert.throws(() => checkFields(view({ SomethingNew: 42 }), undefined), isInvalid(/^unknown field Config\.SomethingNew$/));
    assert.throws(() => checkFields(view({}, { KernelMemory: 1 << 20 }), undefined), isInvalid(/^unknown field HostConfig\.KernelMemory$/));
  });

  test('endpoint settings: addresses, aliases, MACs and links pass; others are refused by name; no other network beside host, none or a container', () => {
    checkFields(view({}, { NetworkMode: 'host' }), { EndpointsConfig: { host: {} } });
    checkFields(view({}, {}), { EndpointsConfig: { default: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.1.0.5' }, MacAddress: '02:42:0a:01:00:05' }, other: {} } });
    checkFields(view({}, {}), { EndpointsConfig: { default: { Links: ['a:b'] } } });
    assert.throws(() => checkFields(view({}, {}), { EndpointsConfig: { default: { DriverOpts: { a: 'b' } } } }), isInvalid(/NetworkingConfig\.EndpointsConfig\.default\.DriverOpts is not supported yet/));
    assert.throws(() => checkFields(view({}, {}), { EndpointsConfig: { net: { IPAMConfig: { IPv6Address: '::5' } } } }), isInvalid(/EndpointsConfig\.net\.IPAMConfig\.IPv6Address is not supported yet/));
    assert.throws(() => checkFields(view({}, { NetworkMode: 'host' }), { EndpointsConfig: { other: {} } }), isInvalid(/cannot be connected to any other network \(other\)/));
  });

  test('isZero: nested zeros are zero; a map with keys is not', () => {
    assert.ok(isZero({ a: [0, ''], b: { c: null } }));
    assert.ok(!isZero({ a: [0, 'x'] }));
    assert.ok(!isZero({ '/data': {} }, 'map'));
    assert.ok(isZero({}, 'map'));
  });

  test('anonymous volumes (-v /data) are applied; an unknown volume driver is refused by name', () => {
    checkFields(view({ Volumes: { '/data': {} } }), undefined);
    checkFields(view({}, { VolumeDriver: 'local' }), undefined);
    assert.throws(() => checkFields(view({}, { VolumeDriver: 'flocker' }), undefined), isInvalid(/^HostConfig\.VolumeDriver "flocker" is not supported yet$/));
  });
});
