// What a log reader yields and is asked for.

export interface LogRecord {
  stream: 1 | 2;
  data: Buffer;
  time: string; // RFC 3339 with nine fraction digits, UTC ("...Z")
  attrs?: Record<string, string>;
}

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  tail?: number; // records from the end; undefined = all
  since?: number; // unix seconds
  until?: number;
  follow: boolean;
}
