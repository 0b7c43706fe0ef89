// A compose file that does not load: the path to the bad key
// (`services.web.ports[1]`) and what is wrong with it.
export class ComposeError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'ComposeError';
    this.path = path;
  }
}

// "services.web" + "ports" → "services.web.ports"; + 1 → "services.web.ports[1]".
export function keyPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}
