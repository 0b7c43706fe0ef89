// The CLI's global options (before the command), apart from cli.ts so the
// help, completion and man page generators read the same table.
import type { FlagSpec } from './args';

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', desc: 'Location of client config files (default: $DOCKER_CONFIG, ~/.docker)' },
  { name: 'context', short: 'c', type: 'string', desc: 'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "berth context use")' },
  { name: 'debug', short: 'D', type: 'bool', desc: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'list', desc: 'Daemon socket to connect to (default: $BERTH_HOST, $DOCKER_HOST, unix:///run/berth/berth.sock)' },
  // berth logs nothing of its own.
  { name: 'log-level', short: 'l', type: 'string', default: 'info', desc: 'Set the logging level ("debug", "info", "warn", "error", "fatal")', unsupported: true },
  { name: 'help', short: 'h', type: 'bool', desc: 'Print usage' },
  { name: 'tls', type: 'bool', desc: 'Use TLS; implied by --tlsverify', unsupported: true },
  { name: 'tlscacert', type: 'string', desc: 'Trust certs signed only by this CA', unsupported: true },
  { name: 'tlscert', type: 'string', desc: 'Path to TLS certificate file', unsupported: true },
  { name: 'tlskey', type: 'string', desc: 'Path to TLS key file', unsupported: true },
  { name: 'tlsverify', type: 'bool', desc: 'Use TLS and verify the remote', unsupported: true },
  { name: 'version', short: 'v', type: 'bool', desc: 'Print version information and quit' },
];
