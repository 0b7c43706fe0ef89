// berthd entry point: flags, pidfile, signals.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LinuxHost } from '../host/linux';
import { VERSION } from '../api/version';
import { ConfigError, loadConfig, parseArgs, usage } from './config';
import { Daemon, type Logger } from './daemon';

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 } as const;

async function main(): Promise<void> {
  const { action } = parseArgs(process.argv.slice(2));
  if (action === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (action === 'version') {
    process.stdout.write(`berthd version ${VERSION}\n`);
    return;
  }
  const config = loadConfig(process.argv.slice(2));
  if (parseArgs(process.argv.slice(2)).flags['cleanup-networks']) {
    await cleanupNetworks(config);
    return;
  }
  const min = LEVELS[config.logLevel];
  const log: Logger = (level, msg) => {
    if (LEVELS[level] >= min) process.stderr.write(`time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}\n`);
  };
  claimPidfile(config.pidfile);
  const daemon = new Daemon(config, new LinuxHost(), log);
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log('info', `received ${sig}, shutting down (containers keep running)`);
    await daemon.stop().catch(() => {});
    fs.rmSync(config.pidfile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGPIPE', () => {});
  try {
    await daemon.start();
  } catch (err) {
    fs.rmSync(config.pidfile, { force: true });
    throw err;
  }
  log('info', `berthd ${VERSION} started (data root ${config.dataRoot})`);
}

// Bridges, rules, DNS and namespaces of a data root whose containers are
// gone (a test harness's last step, or a host being reset).
async function cleanupNetworks(config: ReturnType<typeof loadConfig>): Promise<void> {
  const { NetworkService } = await import('../engine/network/service');
  const { DEFAULT_POOLS } = await import('../engine/network/ipam');
  const log: Logger = (level, msg) => process.stderr.write(`level=${level} msg=${JSON.stringify(msg)}\n`);
  const n = new NetworkService(new LinuxHost(), { publish() {} }, {
    root: path.join(config.dataRoot, 'network'),
    execRoot: config.execRoot,
    config: { ...config.network, pools: config.network.pools ?? DEFAULT_POOLS },
    log,
  });
  await n.init();
  await n.teardownAll();
  n.close();
}

function claimPidfile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        throw new ConfigError(`pid file found, ensure berthd is not running or delete ${file}`);
      } catch (err: any) {
        if (err instanceof ConfigError) throw err;
      }
    }
  } catch (err: any) {
    if (err instanceof ConfigError) throw err;
  }
  fs.writeFileSync(file, `${process.pid}`);
}

main().catch((err) => {
  process.stderr.write(`berthd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
