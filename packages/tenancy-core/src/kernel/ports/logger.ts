/** A log method with pino's call shapes: `(msg)`, `(obj, msg?)`. */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

/**
 * The logging port: a subset of pino's interface, so a pino logger can be passed as is.
 * Tenantry never logs keys, plaintexts or tokens, and masks personal data before logging.
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = (() => undefined) as LogFn;

/** A logger that discards everything. */
export const noopLogger: Logger = Object.freeze({
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => noopLogger,
});

/** One captured log line. */
export interface LogEntry {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg: string | undefined;
  fields: Record<string, unknown>;
}

/** A logger that keeps entries in memory, for tests that check what was (and was not) logged. */
export class MemoryLogger implements Logger {
  constructor(
    readonly entries: LogEntry[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}
  #log(level: LogEntry['level'], a: string | object, b?: string): void {
    const fields = typeof a === 'string' ? {} : { ...(a as Record<string, unknown>) };
    this.entries.push({ level, msg: typeof a === 'string' ? a : b, fields: { ...this.bindings, ...fields } });
  }
  trace: LogFn = (a: string | object, b?: string) => this.#log('trace', a, b);
  debug: LogFn = (a: string | object, b?: string) => this.#log('debug', a, b);
  info: LogFn = (a: string | object, b?: string) => this.#log('info', a, b);
  warn: LogFn = (a: string | object, b?: string) => this.#log('warn', a, b);
  error: LogFn = (a: string | object, b?: string) => this.#log('error', a, b);
  fatal: LogFn = (a: string | object, b?: string) => this.#log('fatal', a, b);
  child(bindings: Record<string, unknown>): Logger {
    return new MemoryLogger(this.entries, { ...this.bindings, ...bindings });
  }
}
