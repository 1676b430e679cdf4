import { type Clock, canonicalJson, systemClock, uuidv7 } from '@tenantry/core';
import { type ChainHead, EMPTY_HEAD, chainBatch, groupByChain, microsFromMillis } from '../chain.js';
import type { AuditEventBody, ChainedEvent, PreparedEvent } from '../event.js';
import type { AuditSink, SinkCapabilities } from '../audit-sink.js';
import { type VerifyResult, verifyEvents } from '../verify.js';
import { AuditError } from '../errors.js';
import { checkClock, invalid, isObject, optionsOf } from '../guards.js';

/** Where the stdout sink writes: `process.stdout` or any stream with a callback-style `write`. */
export interface LineDestination {
  write(chunk: string, callback: (error?: Error | null) => void): unknown;
}

/** Options of {@link StdoutAuditSink}. */
export interface StdoutAuditSinkOptions {
  /** @default process.stdout */
  destination?: LineDestination;
  /** pino level number of audit lines. @default 30 (info) */
  level?: number;
  /** The `msg` field. @default 'audit' */
  msg?: string;
  /** Id of this writer's chains, so lines from several processes can be told apart. @default a UUIDv7 */
  streamId?: string;
  /** @default systemClock */
  clock?: Clock;
}

/** One stdout audit line, as parsed back. */
export interface AuditLine {
  level: number;
  time: number;
  msg: string;
  audit: {
    stream: string;
    id: string;
    chain: string;
    seq: number;
    recordedAt: number;
    prevHash: string;
    hash: string;
    event: AuditEventBody;
  };
}

/**
 * A write-only sink printing one JSON line per event, compatible with pino (`level`, `time`, `msg`),
 * for log pipelines. Each sink instance keeps its own chain per tenant (tagged with `streamId`), so
 * a shipped log can be verified with {@link verifyAuditLines}. `append` resolves when the
 * destination accepted the write, which is no stronger than the log pipeline behind it.
 * @example const sink = createFanOutSink([new PostgresAuditSink({ pool }), new StdoutAuditSink()]);
 */
export class StdoutAuditSink implements AuditSink {
  readonly name = 'stdout';
  readonly capabilities: SinkCapabilities = Object.freeze({
    readable: false,
    sharedChain: false,
    checkpoints: false,
  });
  readonly #dest: LineDestination;
  readonly #level: number;
  readonly #msg: string;
  readonly #stream: string;
  readonly #msgJson: string;
  readonly #streamJson: string;
  readonly #clock: Clock;
  readonly #heads = new Map<string, ChainHead>();
  #tail: Promise<unknown> = Promise.resolve();

  /** @throws ValidationError `VALIDATION_FAILED` for options of the wrong shape (checked structurally) */
  constructor(options: StdoutAuditSinkOptions = {}) {
    const what = 'stdout audit sink options';
    const opts = optionsOf(options, what);
    if (opts.destination !== undefined && typeof opts.destination?.write !== 'function') {
      invalid(what, 'destination', 'must have write(chunk, callback)');
    }
    if (opts.level !== undefined && !Number.isSafeInteger(opts.level))
      invalid(what, 'level', 'must be an integer');
    if (opts.msg !== undefined && (typeof opts.msg !== 'string' || opts.msg.length > 256)) {
      invalid(what, 'msg', 'must be a string of at most 256 characters');
    }
    if (opts.streamId !== undefined && (typeof opts.streamId !== 'string' || opts.streamId.length > 256)) {
      invalid(what, 'streamId', 'must be a string of at most 256 characters');
    }
    checkClock(opts.clock, what);
    this.#dest = opts.destination ?? (process.stdout as unknown as LineDestination);
    this.#level = opts.level ?? 30;
    this.#msg = opts.msg ?? 'audit';
    this.#stream = opts.streamId ?? uuidv7();
    this.#msgJson = JSON.stringify(this.#msg);
    this.#streamJson = JSON.stringify(this.#stream);
    this.#clock = opts.clock ?? systemClock;
  }

  append(events: readonly PreparedEvent[]): Promise<ChainedEvent[]> {
    const run = this.#tail.then(async () => {
      const now = this.#clock.now().getTime();
      const stored: ChainedEvent[] = [];
      let out = '';
      const next = new Map<string, ChainHead>();
      for (const [chain, group] of groupByChain(events)) {
        const linked = chainBatch(this.#heads.get(chain) ?? EMPTY_HEAD, group, microsFromMillis(now));
        // The event is printed as its canonical text, the exact bytes hashed (JSON of the same body),
        // rather than serialized a second time; the other fields are JSON-encoded one by one.
        const head = `{"level":${this.#level},"time":${now},"msg":${this.#msgJson},"audit":{"stream":${this.#streamJson},"chain":${JSON.stringify(chain)}`;
        for (const e of linked) {
          out += `${head},"id":${JSON.stringify(e.id)},"seq":${e.seq},"recordedAt":${e.recordedAt},"prevHash":${JSON.stringify(e.prevHash)},"hash":${JSON.stringify(e.hash)},"event":${e.text}}}\n`;
        }
        const last = linked[linked.length - 1];
        if (last) next.set(chain, { seq: last.seq, hash: last.hash, recordedAt: last.recordedAt });
        stored.push(...linked);
      }
      try {
        await new Promise<void>((resolve, reject) =>
          this.#dest.write(out, (err) => (err ? reject(err) : resolve())),
        );
      } catch (error) {
        throw new AuditError('AUDIT_STORE_FAILED', 'The stdout audit destination refused the write', {
          cause: error,
          details: { sink: this.name },
        });
      }
      // Advance the heads only once the lines are out, so a failed write does not fork the chain.
      for (const [chain, head] of next) this.#heads.set(chain, head);
      return stored;
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

// The canonical text of a parsed event; undefined when it cannot be encoded (e.g. nested too deep).
function textOf(event: unknown): string | undefined {
  try {
    return canonicalJson(event);
  } catch {
    return undefined;
  }
}

/**
 * Parse stdout audit lines back into chained events, grouped by `stream` and chain. Other log lines
 * (and values that are not strings) are skipped.
 * @throws ValidationError `VALIDATION_FAILED` when `lines` is not an iterable (a string is refused: it would be read character by character)
 */
export function parseAuditLines(lines: Iterable<string>): Map<string, ChainedEvent[]> {
  if (!isObject(lines) || typeof (lines as Iterable<string>)[Symbol.iterator] !== 'function') {
    invalid('audit lines', '', 'must be an array or an iterable of strings');
  }
  const out = new Map<string, ChainedEvent[]>();
  for (const line of lines as Iterable<unknown>) {
    if (typeof line !== 'string' || !line.startsWith('{')) continue;
    let parsed: Partial<AuditLine>;
    try {
      parsed = JSON.parse(line) as Partial<AuditLine>;
    } catch {
      continue; // another program's line; a damaged audit line shows up as a gap in its chain
    }
    const a = parsed.audit;
    if (
      !a ||
      typeof a.hash !== 'string' ||
      typeof a.stream !== 'string' ||
      typeof a.chain !== 'string' ||
      typeof a.seq !== 'number'
    ) {
      continue;
    }
    const text = textOf(a.event);
    if (text === undefined) continue; // an event that is not plain JSON: a damaged line
    const key = `${a.stream}\u0000${a.chain}`;
    const e: ChainedEvent = {
      id: a.id,
      chain: a.chain,
      seq: a.seq,
      recordedAt: a.recordedAt,
      prevHash: a.prevHash,
      hash: a.hash,
      text,
    };
    const list = out.get(key);
    if (list) list.push(e);
    else out.set(key, [e]);
  }
  return out;
}

/**
 * Verify every chain found in stdout audit lines (e.g. a shipped log file).
 * @example const results = await verifyAuditLines(readFileSync('app.log', 'utf8').split('\n'));
 */
export async function verifyAuditLines(
  lines: Iterable<string>,
): Promise<Array<VerifyResult & { stream: string }>> {
  const results: Array<VerifyResult & { stream: string }> = [];
  for (const [key, events] of parseAuditLines(lines)) {
    const [stream = '', chain = ''] = key.split('\u0000');
    events.sort((a, b) => a.seq - b.seq);
    results.push({ ...(await verifyEvents(chain, [events])), stream });
  }
  return results;
}
