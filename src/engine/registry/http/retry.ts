// Retries idempotent reads (GET, HEAD) on connection errors, 429 and 5xx,
// with exponential backoff. Writes are never retried here: an upload's
// progress is the upload code's business.
import { RegistryError } from '../errors';
import { discard, header, type Dispatch, type HttpRequest, type HttpResponse } from './types';

export interface RetryOptions {
  attempts: number; // total tries, >= 1
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 200, maxDelayMs: 3000 };

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

export function isRetryableError(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  // A DNS "no such host", a TLS failure or a connect timeout will not get
  // better in a second: fail fast on those.
  if (err.code === 'ERR_REGISTRY_TLS') return false;
  const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
  if (cause === 'ENOTFOUND') return false;
  if (err.code === 'ERR_REGISTRY_TIMEOUT' && /connecting/.test(err.message)) return false;
  return err.code === 'ERR_REGISTRY_UNREACHABLE' || err.code === 'ERR_REGISTRY_TIMEOUT';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function retryDelay(attempt: number, opts: RetryOptions, res?: HttpResponse): number {
  const ra = res && header(res, 'retry-after');
  if (ra && /^\d+$/.test(ra)) return Math.min(Number(ra) * 1000, opts.maxDelayMs);
  const d = Math.min(opts.baseDelayMs * 2 ** attempt, opts.maxDelayMs);
  return d / 2 + Math.random() * (d / 2);
}

export function withRetry(next: Dispatch, opts: RetryOptions = DEFAULT_RETRY): Dispatch {
  return async (req: HttpRequest) => {
    const idempotent = req.method === 'GET' || req.method === 'HEAD';
    if (!idempotent) return next(req);
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= opts.attempts;
      let res: HttpResponse;
      try {
        res = await next(req);
      } catch (err) {
        if (last || !isRetryableError(err)) throw err;
        await sleep(retryDelay(attempt, opts));
        continue;
      }
      if (last || !RETRY_STATUS.has(res.status)) return res;
      discard(res);
      await sleep(retryDelay(attempt, opts, res));
    }
  };
}
