// What berth does with each field of an exec create body (`POST
// /containers/{id}/exec`, ExecConfig in the 1.51 spec) and of an exec start
// body (`POST /exec/{id}/start`, ExecStartConfig). As for create: values
// are type-checked from the table, malformed ones are 400s naming the
// field, and a field the table does not know is refused unless zero.
// docs/COMPATIBILITY.md is generated from it; a unit test keeps it in step
// with the spec.
import { invalidArgument } from '../../errors';
import { checkType, isZero, type FieldRule } from './fields';

function consoleSize(field: string) {
  return (v: unknown) => {
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff)) {
      throw invalidArgument(`invalid ${field} ${JSON.stringify(v)}: it must be [height, width] of non-negative integers`);
    }
  };
}

const applied = (type: FieldRule['type'], note?: string, extra: Partial<FieldRule> = {}): FieldRule => ({ type, status: 'applied', note, ...extra });

export const EXEC_FIELDS: Record<string, FieldRule> = {
  AttachStdin: applied('boolean', 'the attached stream\'s input reaches the process; end of input closes its stdin'),
  AttachStdout: applied('boolean'),
  AttachStderr: applied('boolean'),
  ConsoleSize: applied('array', 'the TTY\'s initial [height, width] (ignored without a TTY and below API 1.42, as dockerd does)', { validate: consoleSize('ConsoleSize') }),
  DetachKeys: applied('string', 'with a TTY and stdin, the sequence (default ctrl-p,ctrl-q) lets go of the stream; the process runs on'),
  Tty: applied('boolean', 'a pty from the runtime\'s console socket; resized by `POST /exec/{id}/resize`'),
  Env: applied('strings', 'over the container\'s env; `NAME` alone removes it'),
  Cmd: applied('strings', 'required'),
  Privileged: applied('boolean', 'every capability the daemon holds; the container\'s seccomp filter stays, as in dockerd'),
  User: applied('string', 'resolved against the container\'s /etc/passwd and /etc/group; default: the container\'s user'),
  WorkingDir: applied('string', 'an absolute path; default: the container\'s working directory'),
  // Not in the spec, but the docker CLI sends it (ExecOptions.Detach).
  Detach: { type: 'boolean', status: 'ignored', note: 'sent by the docker CLI; detaching is chosen at start (`ExecStartConfig.Detach`), as in dockerd' },
};

export const EXEC_START_FIELDS: Record<string, FieldRule> = {
  Detach: applied('boolean', 'the call returns once the process runs; its output goes nowhere'),
  Tty: applied('boolean', 'the stream is raw rather than multiplexed (the process has a TTY only if the exec was created with one), as in dockerd'),
  ConsoleSize: applied('array', 'overrides the create\'s size (ignored without a TTY and below API 1.42)', { validate: consoleSize('ConsoleSize') }),
  // Not in the spec: dockerode sends its own options in the body too.
  hijack: { type: 'boolean', status: 'ignored', note: 'dockerode\'s client-side option, echoed in the body; the stream is hijacked when the request asks to upgrade' },
  stdin: { type: 'boolean', status: 'ignored', note: 'dockerode\'s client-side option, echoed in the body; stdin is the exec\'s AttachStdin' },
};

// Checks a body against a table: types, values, and fields it does not know.
export function checkBody(table: Record<string, FieldRule>, body: Record<string, unknown>): void {
  for (const [field, v] of Object.entries(body)) {
    const rule = table[field];
    if (!rule) {
      if (!isZero(v)) throw invalidArgument(`unknown field ${field}`);
      continue;
    }
    checkType(field, v, rule.type);
    if (v === null || v === undefined) continue;
    rule.validate?.(v, { config: body, hostConfig: {} });
  }
}
