// The command table: top-level commands and management groups, as docker
// names them. Each command's module is loaded only when it runs (esbuild
// keeps a dynamically imported module's top level for when it is imported),
// so a command's start does not pay for the other forty; help loads them
// all.
import type { Command } from '../command';

// A command by name, and its module on demand.
export interface CommandRef {
  name: string;
  load(): Promise<Command>;
}

function ref(name: string, load: () => Promise<Command>): CommandRef {
  return { name, load };
}

const baseBusyboxRef = ref('busybox', () => import('./base/busybox').then((m) => m.baseBusyboxCommand));
const baseDebianRef = ref('debian', () => import('./base/debian').then((m) => m.baseDebianCommand));
const attachRef = ref('attach', () => import('./container/attach').then((m) => m.attachCommand));
const commitRef = ref('commit', () => import('./container/commit').then((m) => m.commitCommand));
const cpRef = ref('cp', () => import('./container/cp').then((m) => m.cpCommand));
const createRef = ref('create', () => import('./container/create').then((m) => m.createCommand));
const diffRef = ref('diff', () => import('./container/diff').then((m) => m.diffCommand));
const execRef = ref('exec', () => import('./container/exec').then((m) => m.execCommand));
const exportRef = ref('export', () => import('./container/export').then((m) => m.exportCommand));
const containerInspectRef = ref('inspect', () => import('./container/inspect').then((m) => m.containerInspectCommand));
const killRef = ref('kill', () => import('./container/kill').then((m) => m.killCommand));
const psRef = ref('ps', () => import('./container/list').then((m) => m.psCommand));
const logsRef = ref('logs', () => import('./container/logs').then((m) => m.logsCommand));
const pauseRef = ref('pause', () => import('./container/pause').then((m) => m.pauseCommand));
const renameRef = ref('rename', () => import('./container/rename').then((m) => m.renameCommand));
const updateRef = ref('update', () => import('./container/update').then((m) => m.updateCommand));
const restartRef = ref('restart', () => import('./container/restart').then((m) => m.restartCommand));
const rmRef = ref('rm', () => import('./container/rm').then((m) => m.rmCommand));
const runRef = ref('run', () => import('./container/run').then((m) => m.runCommand));
const startRef = ref('start', () => import('./container/start').then((m) => m.startCommand));
const statsRef = ref('stats', () => import('./container/stats').then((m) => m.statsCommand));
const stopRef = ref('stop', () => import('./container/stop').then((m) => m.stopCommand));
const topRef = ref('top', () => import('./container/top').then((m) => m.topCommand));
const unpauseRef = ref('unpause', () => import('./container/unpause').then((m) => m.unpauseCommand));
const waitRef = ref('wait', () => import('./container/wait').then((m) => m.waitCommand));
const buildRef = ref('build', () => import('./image/build').then((m) => m.buildCommand));
const historyRef = ref('history', () => import('./image/history').then((m) => m.historyCommand));
const importRef = ref('import', () => import('./image/import').then((m) => m.importCommand));
const imageInspectRef = ref('inspect', () => import('./image/inspect').then((m) => m.imageInspectCommand));
const imageLsRef = ref('ls', () => import('./image/list').then((m) => m.imageLsCommand));
const imagesRef = ref('images', () => import('./image/list').then((m) => m.imagesCommand));
const loadRef = ref('load', () => import('./image/load').then((m) => m.loadCommand));
const imagePruneRef = ref('prune', () => import('./image/prune').then((m) => m.imagePruneCommand));
const pullRef = ref('pull', () => import('./image/pull').then((m) => m.pullCommand));
const pushRef = ref('push', () => import('./image/push').then((m) => m.pushCommand));
const rmiRef = ref('rmi', () => import('./image/rm').then((m) => m.rmiCommand));
const saveRef = ref('save', () => import('./image/save').then((m) => m.saveCommand));
const tagRef = ref('tag', () => import('./image/tag').then((m) => m.tagCommand));
const inspectRef = ref('inspect', () => import('./inspect').then((m) => m.inspectCommand));
const loginRef = ref('login', () => import('./registry/login').then((m) => m.loginCommand));
const logoutRef = ref('logout', () => import('./registry/logout').then((m) => m.logoutCommand));
const dfRef = ref('df', () => import('./system/df').then((m) => m.dfCommand));
const eventsRef = ref('events', () => import('./system/events').then((m) => m.eventsCommand));
const infoRef = ref('info', () => import('./system/info').then((m) => m.infoCommand));
const versionRef = ref('version', () => import('./system/version').then((m) => m.versionCommand));
const systemPruneRef = ref('prune', () => import('./system/prune').then((m) => m.systemPruneCommand));
const portRef = ref('port', () => import('./container/port').then((m) => m.portCommand));
const containerPruneRef = ref('prune', () => import('./container/prune').then((m) => m.containerPruneCommand));
const networkConnectRef = ref('connect', () => import('./network/connect').then((m) => m.networkConnectCommand));
const networkCreateRef = ref('create', () => import('./network/create').then((m) => m.networkCreateCommand));
const networkDisconnectRef = ref('disconnect', () => import('./network/disconnect').then((m) => m.networkDisconnectCommand));
const networkInspectRef = ref('inspect', () => import('./network/inspect').then((m) => m.networkInspectCommand));
const networkLsRef = ref('ls', () => import('./network/list').then((m) => m.networkLsCommand));
const networkPruneRef = ref('prune', () => import('./network/prune').then((m) => m.networkPruneCommand));
const networkRmRef = ref('rm', () => import('./network/rm').then((m) => m.networkRmCommand));
const contextCreateRef = ref('create', () => import('./context/context').then((m) => m.contextCreateCommand));
const contextInspectRef = ref('inspect', () => import('./context/context').then((m) => m.contextInspectCommand));
const contextLsRef = ref('ls', () => import('./context/context').then((m) => m.contextLsCommand));
const contextRmRef = ref('rm', () => import('./context/context').then((m) => m.contextRmCommand));
const contextShowRef = ref('show', () => import('./context/context').then((m) => m.contextShowCommand));
const contextUseRef = ref('use', () => import('./context/context').then((m) => m.contextUseCommand));
const completionRef = ref('completion', () => import('./system/completion').then((m) => m.completionCommand));
const docsRef = ref('docs', () => import('./system/docs').then((m) => m.docsCommand));
const volumeCreateRef = ref('create', () => import('./volume/create').then((m) => m.volumeCreateCommand));
const volumeInspectRef = ref('inspect', () => import('./volume/inspect').then((m) => m.volumeInspectCommand));
const volumeLsRef = ref('ls', () => import('./volume/list').then((m) => m.volumeLsCommand));
const volumePruneRef = ref('prune', () => import('./volume/prune').then((m) => m.volumePruneCommand));
const volumeRmRef = ref('rm', () => import('./volume/rm').then((m) => m.volumeRmCommand));
const composeConfigRef = ref('config', () => import('./compose/config').then((m) => m.composeConfigCommand));
const composeUpRef = ref('up', () => import('./compose/up').then((m) => m.composeUpCommand));
const composeDownRef = ref('down', () => import('./compose/up').then((m) => m.composeDownCommand));
const composeCreateRef = ref('create', () => import('./compose/up').then((m) => m.composeCreateCommand));
const composeStartRef = ref('start', () => import('./compose/more').then((m) => m.composeStartCommand));
const composeStopRef = ref('stop', () => import('./compose/more').then((m) => m.composeStopCommand));
const composeRestartRef = ref('restart', () => import('./compose/more').then((m) => m.composeRestartCommand));
const composeRmRef = ref('rm', () => import('./compose/more').then((m) => m.composeRmCommand));
const composeKillRef = ref('kill', () => import('./compose/more').then((m) => m.composeKillCommand));
const composePauseRef = ref('pause', () => import('./compose/more').then((m) => m.composePauseCommand));
const composeUnpauseRef = ref('unpause', () => import('./compose/more').then((m) => m.composeUnpauseCommand));
const composeBuildRef = ref('build', () => import('./compose/more').then((m) => m.composeBuildCommand));
const composePullRef = ref('pull', () => import('./compose/more').then((m) => m.composePullCommand));
const composePushRef = ref('push', () => import('./compose/more').then((m) => m.composePushCommand));
const composeExecRef = ref('exec', () => import('./compose/more').then((m) => m.composeExecCommand));
const composeRunRef = ref('run', () => import('./compose/more').then((m) => m.composeRunCommand));
const composeTopRef = ref('top', () => import('./compose/more').then((m) => m.composeTopCommand));
const composeImagesRef = ref('images', () => import('./compose/more').then((m) => m.composeImagesCommand));
const composePortRef = ref('port', () => import('./compose/more').then((m) => m.composePortCommand));
const composeEventsRef = ref('events', () => import('./compose/more').then((m) => m.composeEventsCommand));
const composeLsRef = ref('ls', () => import('./compose/ps').then((m) => m.composeLsCommand));
const composePsRef = ref('ps', () => import('./compose/ps').then((m) => m.composePsCommand));
const composeLogsRef = ref('logs', () => import('./compose/ps').then((m) => m.composeLogsCommand));

export const TOP: CommandRef[] = [
  runRef, createRef, startRef, stopRef, restartRef, killRef, rmRef,
  waitRef, logsRef, psRef, inspectRef,
  commitRef, exportRef,
  attachRef, execRef, cpRef, diffRef, topRef, pauseRef, unpauseRef, renameRef, statsRef, eventsRef, updateRef,
  portRef,
  buildRef, imagesRef, pullRef, pushRef, importRef, saveRef, loadRef, historyRef, tagRef, rmiRef,
  loginRef, logoutRef,
  infoRef, versionRef,
  completionRef, docsRef,
];

export interface Group {
  summary: string;
  commands: Record<string, CommandRef>;
}

export const GROUPS: Record<string, Group> = {
  container: {
    summary: 'Manage containers',
    commands: {
      commit: commitRef, create: createRef, export: exportRef, inspect: containerInspectRef, kill: killRef, logs: logsRef,
      ls: psRef, list: psRef, ps: psRef, restart: restartRef, rm: rmRef, remove: rmRef,
      run: runRef, start: startRef, stop: stopRef, wait: waitRef,
      attach: attachRef, cp: cpRef, diff: diffRef, exec: execRef, pause: pauseRef, rename: renameRef,
      stats: statsRef, top: topRef, unpause: unpauseRef, update: updateRef,
      port: portRef, prune: containerPruneRef,
    },
  },
  image: {
    summary: 'Manage images',
    commands: {
      build: buildRef, history: historyRef, import: importRef, inspect: imageInspectRef, load: loadRef, ls: imageLsRef, list: imageLsRef,
      prune: imagePruneRef, pull: pullRef, push: pushRef, rm: rmiRef, remove: rmiRef, save: saveRef, tag: tagRef,
    },
  },
  system: {
    summary: 'Manage berth',
    commands: { df: dfRef, events: eventsRef, info: infoRef, prune: systemPruneRef },
  },
  network: {
    summary: 'Manage networks',
    commands: {
      connect: networkConnectRef, create: networkCreateRef, disconnect: networkDisconnectRef, inspect: networkInspectRef,
      ls: networkLsRef, list: networkLsRef, prune: networkPruneRef, rm: networkRmRef, remove: networkRmRef,
    },
  },
  volume: {
    summary: 'Manage volumes',
    commands: {
      create: volumeCreateRef, inspect: volumeInspectRef, ls: volumeLsRef, list: volumeLsRef,
      prune: volumePruneRef, rm: volumeRmRef, remove: volumeRmRef,
    },
  },
  context: {
    summary: 'Manage contexts',
    commands: {
      create: contextCreateRef, inspect: contextInspectRef, ls: contextLsRef, list: contextLsRef,
      rm: contextRmRef, remove: contextRmRef, show: contextShowRef, use: contextUseRef,
    },
  },
  compose: {
    summary: 'Define and run multi-container applications (the Compose Specification)',
    commands: {
      build: composeBuildRef, config: composeConfigRef, create: composeCreateRef, down: composeDownRef, events: composeEventsRef, exec: composeExecRef,
      images: composeImagesRef, kill: composeKillRef, logs: composeLogsRef, ls: composeLsRef, pause: composePauseRef, port: composePortRef, ps: composePsRef, pull: composePullRef,
      push: composePushRef, restart: composeRestartRef, rm: composeRmRef, run: composeRunRef, start: composeStartRef, stop: composeStopRef, top: composeTopRef,
      unpause: composeUnpauseRef, up: composeUpRef,
    },
  },
  base: {
    summary: 'Create base images without a registry',
    commands: { busybox: baseBusyboxRef, debian: baseDebianRef },
  },
};

// docker 28's commands berth does not have yet (`docker --help`, and each
// group's `docker GROUP --help`, with their aliases): berth says so rather
// than calling them unknown.
export const NOT_IMPLEMENTED = {
  top: [
    'search',
  ],
  groups: {
    builder: ['build', 'prune'],
    checkpoint: ['create', 'ls', 'list', 'rm', 'remove'],
    config: ['create', 'inspect', 'ls', 'list', 'rm', 'remove'],
    container: [],
    context: ['export', 'import', 'update'],
    image: [],
    manifest: ['annotate', 'create', 'inspect', 'push', 'rm'],
    node: ['demote', 'inspect', 'ls', 'list', 'promote', 'ps', 'rm', 'remove', 'update'],
    plugin: ['create', 'disable', 'enable', 'inspect', 'install', 'ls', 'list', 'push', 'rm', 'remove', 'set', 'upgrade'],
    secret: ['create', 'inspect', 'ls', 'list', 'rm', 'remove'],
    service: ['create', 'inspect', 'logs', 'ls', 'list', 'ps', 'rm', 'remove', 'rollback', 'scale', 'update'],
    stack: ['config', 'deploy', 'up', 'ls', 'list', 'ps', 'rm', 'remove', 'down', 'services'],
    swarm: ['ca', 'init', 'join', 'join-token', 'leave', 'unlock', 'unlock-key', 'update'],
    trust: ['inspect', 'key', 'revoke', 'sign', 'signer'],
    volume: ['update'],
  } as Record<string, string[]>,
};

// What to call a docker command berth lacks ("exec", "network ls",
// "network" for a whole group), or undefined for one docker lacks too.
export function notImplemented(name: string, sub: string | undefined): string | undefined {
  const group = NOT_IMPLEMENTED.groups[name];
  if (group) {
    if (sub && group.includes(sub)) return `${name} ${sub}`;
    return GROUPS[name] ? undefined : name;
  }
  return NOT_IMPLEMENTED.top.includes(name) ? name : undefined;
}
