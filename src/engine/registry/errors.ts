// Registry errors: berth's error kinds plus a stable code per failure, the
// HTTP status when there was one, and the registry's own error list
// ({"errors":[{"code","message","detail"}]}) when it sent one.
import { BerthError, type ErrorKind } from '../../errors';

export type RegistryErrorCode =
  | 'ERR_REGISTRY_UNREACHABLE' // connection refused/reset, DNS failure
  | 'ERR_REGISTRY_TIMEOUT' // connect or response timeout
  | 'ERR_REGISTRY_TLS' // certificate verification or handshake failure
  | 'ERR_REGISTRY_HTTP' // an error status from the registry
  | 'ERR_REGISTRY_AUTH' // the token server or an auth challenge failed
  | 'ERR_REGISTRY_PROTOCOL' // a response that breaks the distribution protocol
  | 'ERR_REGISTRY_DIGEST_MISMATCH'
  | 'ERR_REGISTRY_SIZE_EXCEEDED' // more bytes than the descriptor or the cap allows
  | 'ERR_REGISTRY_SHORT_READ' // fewer bytes than the descriptor says
  | 'ERR_REGISTRY_MEDIA_TYPE_MISMATCH'
  | 'ERR_REGISTRY_INVALID_MANIFEST'
  | 'ERR_REGISTRY_UNSUPPORTED' // a media type or digest algorithm we do not handle
  | 'ERR_REGISTRY_DECOMPRESS';

export interface RemoteError {
  code: string;
  message: string;
  detail?: unknown;
}

export class RegistryError extends BerthError {
  readonly code: RegistryErrorCode;
  readonly status?: number;
  readonly errors?: RemoteError[];
  constructor(
    kind: ErrorKind,
    code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number; errors?: RemoteError[] },
  ) {
    super(kind, message, { cause: options?.cause });
    this.code = code;
    this.status = options?.status;
    this.errors = options?.errors;
  }
}

// Content that fails verification (digest, size, media type, schema) is an
// invalid argument, the same as the content store treats it.
export const integrityError = (code: RegistryErrorCode, message: string) => new RegistryError('InvalidArgument', code, message);

export function statusKind(status: number): ErrorKind {
  if (status === 400) return 'InvalidArgument';
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 405) return 'FailedPrecondition'; // e.g. a read-only registry or a pull-through cache
  if (status === 409) return 'Conflict';
  if (status === 429 || status >= 500) return 'Unavailable';
  return 'Internal';
}

// Parses {"errors":[...]} from an error body; undefined if it is not that.
export function parseRemoteErrors(body: Buffer | string): RemoteError[] | undefined {
  try {
    const doc = JSON.parse(body.toString());
    if (!doc || !Array.isArray(doc.errors)) return undefined;
    const out: RemoteError[] = [];
    for (const e of doc.errors) {
      if (!e || typeof e !== 'object') continue;
      const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
      const message = typeof e.message === 'string' ? e.message : '';
      out.push({ code, message, detail: e.detail });
    }
    return out.length ? out : undefined;
  } catch {
    return undefined;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'denied',
  404: 'not found',
  405: 'method not allowed',
  409: 'conflict',
  416: 'range not satisfiable',
  429: 'too many requests',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

// The error for an HTTP error status: "<context>: <status text>: <registry messages>".
export function httpError(context: string, status: number, body?: Buffer): RegistryError {
  const errors = body ? parseRemoteErrors(body) : undefined;
  let detail: string;
  if (errors) {
    detail = errors.map((e) => e.message || e.code.toLowerCase().replace(/_/g, ' ')).join('; ');
  } else {
    const text = body ? body.toString('utf8', 0, Math.min(body.length, 512)).trim() : '';
    // Only show short plain-text bodies; HTML error pages say nothing useful.
    detail = text && !/^\s*</.test(text) && !text.includes('\n') ? text : '';
  }
  const head = STATUS_TEXT[status] ?? `status ${status}`;
  const msg = detail && detail.toLowerCase() !== head ? `${context}: ${head}: ${detail}` : `${context}: ${head}`;
  return new RegistryError(statusKind(status), 'ERR_REGISTRY_HTTP', msg, { status, errors });
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
]);

export function isTlsError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return typeof code === 'string' && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'));
}

// Wraps a socket-level error from node:http(s) into a registry error.
export function networkError(err: unknown, what: string): RegistryError {
  if (err instanceof RegistryError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  const msg = e?.message ?? String(err);
  if (isTlsError(err)) {
    return new RegistryError('Unavailable', 'ERR_REGISTRY_TLS', `${what}: tls: ${msg}`, { cause: err });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new RegistryError('Unavailable', 'ERR_REGISTRY_UNREACHABLE', `${what}: cannot resolve host (${code})`, { cause: err });
  }
  if (code === 'ETIMEDOUT') {
    return new RegistryError('Unavailable', 'ERR_REGISTRY_TIMEOUT', `${what}: ${msg}`, { cause: err });
  }
  return new RegistryError('Unavailable', 'ERR_REGISTRY_UNREACHABLE', `${what}: ${msg}`, { cause: err });
}
