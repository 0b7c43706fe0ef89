// One error vocabulary for the whole engine. Engine code throws these; the
// server maps them to HTTP status in one place (server/errors.ts).

export type ErrorKind =
  | 'InvalidArgument'
  | 'NotFound'
  | 'Conflict'
  | 'FailedPrecondition'
  | 'NotModified'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Unavailable'
  | 'NotImplemented'
  | 'Internal';

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = kind;
  }
}

export const invalidArgument = (msg: string) => new BerthError('InvalidArgument', msg);
export const notFound = (msg: string) => new BerthError('NotFound', msg);
export const conflict = (msg: string) => new BerthError('Conflict', msg);
export const failedPrecondition = (msg: string) => new BerthError('FailedPrecondition', msg);
export const notModified = (msg: string) => new BerthError('NotModified', msg);

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof BerthError && err.kind === kind;
}

// Adds context in front of a message, keeping the kind ("start container x: …").
export function wrap(err: unknown, context: string): Error {
  if (err instanceof BerthError) {
    const e = new BerthError(err.kind, `${context}: ${err.message}`, { cause: err });
    return e;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new BerthError('Internal', `${context}: ${msg}`, { cause: err });
}
