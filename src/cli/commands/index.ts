// The command table: top-level commands and management groups, as docker
// names them.
import type { Command } from '../command';
import { baseBusyboxCommand } from './base/busybox';
import { baseDebianCommand } from './base/debian';
import { commitCommand } from './container/commit';
import { createCommand } from './container/create';
import { exportCommand } from './container/export';
import { containerInspectCommand } from './container/inspect';
import { killCommand } from './container/kill';
import { psCommand } from './container/list';
import { logsCommand } from './container/logs';
import { restartCommand } from './container/restart';
import { rmCommand } from './container/rm';
import { runCommand } from './container/run';
import { startCommand } from './container/start';
import { stopCommand } from './container/stop';
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
import { infoCommand } from './system/info';
import { versionCommand } from './system/version';

export const TOP: Command[] = [
  runCommand, createCommand, startCommand, stopCommand, restartCommand, killCommand, rmCommand,
  waitCommand, logsCommand, psCommand, inspectCommand,
  commitCommand, exportCommand,
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
    commands: { df: dfCommand, info: infoCommand },
  },
  base: {
    summary: 'Create base images without a registry',
    commands: { busybox: baseBusyboxCommand, debian: baseDebianCommand },
  },
};

