// The command table: top-level commands and management groups, as docker
// names them.
import type { Command } from '../command';
import { baseBusyboxCommand } from './base/busybox';
import { baseDebianCommand } from './base/debian';
import { attachCommand } from './container/attach';
import { commitCommand } from './container/commit';
import { cpCommand } from './container/cp';
import { createCommand } from './container/create';
import { diffCommand } from './container/diff';
import { execCommand } from './container/exec';
import { exportCommand } from './container/export';
import { containerInspectCommand } from './container/inspect';
import { killCommand } from './container/kill';
import { psCommand } from './container/list';
import { logsCommand } from './container/logs';
import { pauseCommand } from './container/pause';
import { renameCommand } from './container/rename';
import { restartCommand } from './container/restart';
import { rmCommand } from './container/rm';
import { runCommand } from './container/run';
import { startCommand } from './container/start';
import { statsCommand } from './container/stats';
import { stopCommand } from './container/stop';
import { topCommand } from './container/top';
import { unpauseCommand } from './container/unpause';
import { waitCommand } from './container/wait';
import { historyCommand } from './image/history';
import { importCommand } from './image/import';
import { imageInspectCommand } from './image/inspect';
import { imageLsCommand, imagesCommand } from './image/list';
import { loadCommand } from './image/load';
import { imagePruneCommand } from './image/prune';
import { pullCommand } from './image/pull';
import { pushCommand } from './image/push';
import { rmiCommand } from './image/rm';
import { saveCommand } from './image/save';
import { tagCommand } from './image/tag';
import { inspectCommand } from './inspect';
import { loginCommand } from './registry/login';
import { logoutCommand } from './registry/logout';
import { dfCommand } from './system/df';
import { eventsCommand } from './system/events';
import { infoCommand } from './system/info';
import { versionCommand } from './system/version';

export const TOP: Command[] = [
  runCommand, createCommand, startCommand, stopCommand, restartCommand, killCommand, rmCommand,
  waitCommand, logsCommand, psCommand, inspectCommand,
  commitCommand, exportCommand,
  attachCommand, execCommand, cpCommand, diffCommand, topCommand, pauseCommand, unpauseCommand, renameCommand, statsCommand, eventsCommand,
  imagesCommand, pullCommand, pushCommand, importCommand, saveCommand, loadCommand, historyCommand, tagCommand, rmiCommand,
  loginCommand, logoutCommand,
  infoCommand, versionCommand,
];

export interface Group {
  summary: string;
  commands: Record<string, Command>;
}

export const GROUPS: Record<string, Group> = {
  container: {
    summary: 'Manage containers',
    commands: {
      commit: commitCommand, create: createCommand, export: exportCommand, inspect: containerInspectCommand, kill: killCommand, logs: logsCommand,
      ls: psCommand, list: psCommand, ps: psCommand, restart: restartCommand, rm: rmCommand, remove: rmCommand,
      run: runCommand, start: startCommand, stop: stopCommand, wait: waitCommand,
      attach: attachCommand, cp: cpCommand, diff: diffCommand, exec: execCommand, pause: pauseCommand, rename: renameCommand,
      stats: statsCommand, top: topCommand, unpause: unpauseCommand,
    },
  },
  image: {
    summary: 'Manage images',
    commands: {
      history: historyCommand, import: importCommand, inspect: imageInspectCommand, load: loadCommand, ls: imageLsCommand, list: imageLsCommand,
      prune: imagePruneCommand, pull: pullCommand, push: pushCommand, rm: rmiCommand, remove: rmiCommand, save: saveCommand, tag: tagCommand,
    },
  },
  system: {
    summary: 'Manage berth',
    commands: { df: dfCommand, events: eventsCommand, info: infoCommand },
  },
  base: {
    summary: 'Create base images without a registry',
    commands: { busybox: baseBusyboxCommand, debian: baseDebianCommand },
  },
};

// docker 28's commands berth does not have yet (`docker --help`, and each
// group's `docker GROUP --help`, with their aliases): berth says so rather
// than calling them unknown.
export const NOT_IMPLEMENTED = {
  top: [
    'build', 'port', 'search', 'update',
  ],
  groups: {
    builder: ['build', 'prune'],
    checkpoint: ['create', 'ls', 'list', 'rm', 'remove'],
    config: ['create', 'inspect', 'ls', 'list', 'rm', 'remove'],
    container: ['port', 'prune', 'update'],
    context: ['create', 'export', 'import', 'inspect', 'ls', 'list', 'rm', 'remove', 'show', 'update', 'use'],
    image: ['build'],
    manifest: ['annotate', 'create', 'inspect', 'push', 'rm'],
    network: ['connect', 'create', 'disconnect', 'inspect', 'ls', 'list', 'prune', 'rm', 'remove'],
    node: ['demote', 'inspect', 'ls', 'list', 'promote', 'ps', 'rm', 'remove', 'update'],
    plugin: ['create', 'disable', 'enable', 'inspect', 'install', 'ls', 'list', 'push', 'rm', 'remove', 'set', 'upgrade'],
    secret: ['create', 'inspect', 'ls', 'list', 'rm', 'remove'],
    service: ['create', 'inspect', 'logs', 'ls', 'list', 'ps', 'rm', 'remove', 'rollback', 'scale', 'update'],
    stack: ['config', 'deploy', 'up', 'ls', 'list', 'ps', 'rm', 'remove', 'down', 'services'],
    swarm: ['ca', 'init', 'join', 'join-token', 'leave', 'unlock', 'unlock-key', 'update'],
    system: ['prune'],
    trust: ['inspect', 'key', 'revoke', 'sign', 'signer'],
    volume: ['create', 'inspect', 'ls', 'list', 'prune', 'rm', 'remove', 'update'],
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
