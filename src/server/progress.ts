// Renders engine progress as Docker's JSON message stream. Errors after the
// 200 has gone out travel in-band as {"errorDetail": …, "error": …}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidArgument } from '../errors';
import type { ProgressEvent, ProgressSink } from '../engine/events/progress';
import type { RegistryAuth } from '../engine/registry';

export class JSONMessageStream {
  private started = false;

  constructor(private res: ServerResponse) {}

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
  }

  readonly sink: ProgressSink = (e: ProgressEvent) => {
    this.start();
    this.res.write(JSON.stringify(render(e)) + '\r\n');
  };

  // Before anything was sent the error can still get its own status.
  get headersSent(): boolean {
    return this.started;
  }

  error(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.start();
    this.res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
  }

  end(): void {
    this.start();
    this.res.end();
  }
}

function render(e: ProgressEvent): Record<string, unknown> {
  switch (e.type) {
    case 'status':
      return e.id ? { status: e.status, id: e.id } : { status: e.status };
    case 'progress':
      return { status: e.status, progressDetail: e.current !== undefined ? { current: e.current, ...(e.total ? { total: e.total } : {}) } : {}, id: e.id };
    case 'aux':
      return { progressDetail: {}, aux: e.aux };
    case 'stream':
      return { stream: e.text };
  }
}

// X-Registry-Auth: base64url JSON {username, password, serveraddress, identitytoken, registrytoken}.
export function registryAuth(req: IncomingMessage): RegistryAuth | undefined {
  const raw = req.headers['x-registry-auth'];
  if (!raw || Array.isArray(raw)) return undefined;
  let v: any;
  try {
    v = JSON.parse(Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw invalidArgument('invalid X-Registry-Auth header: expected base64url-encoded JSON');
  }
  if (!v || typeof v !== 'object') return undefined;
  const auth: RegistryAuth = {};
  if (typeof v.username === 'string' && v.username) auth.username = v.username;
  if (typeof v.password === 'string' && v.password) auth.password = v.password;
  if (typeof v.identitytoken === 'string' && v.identitytoken) auth.identitytoken = v.identitytoken;
  if (typeof v.registrytoken === 'string' && v.registrytoken) auth.registrytoken = v.registrytoken;
  return Object.keys(auth).length ? auth : undefined;
}
