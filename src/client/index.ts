export { Client, ClientError, ConnectionError, API_VERSION, encodeQuery, readAll } from './client';
export type { Query, RequestOptions, Response, Hijacked } from './client';
export { DEFAULT_HOST, selectHost, parseHost } from './host';
export type { Endpoint } from './host';
export { StdcopyParser, demux, copyRaw, frame, STDIN, STDOUT, STDERR, SYSTEMERR } from './stdcopy';
export type * from '../api/types';
