import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTenantryError } from '@tenantry/core';
import { AuditError } from './errors.js';
import type { AuditEventBody, PreparedEvent } from './event.js';
import type { AuditSink } from './audit-sink.js';

/** Options of {@link FileSpool.open}. */
export interface FileSpoolOptions {
  /** Directory owned by this process (one spool per process; a lock file enforces it). */
  dir: string;
  /** Refuse new events beyond this many undelivered bytes (they are then not accepted). @default 67108864 (64 MiB) */
  maxBytes?: number;
  /** Most events per replay batch. @default 500 */
  maxBatch?: number;
}

const LOG = 'spool.log';
const CURSOR = 'spool.cursor';
const LOCK = 'spool.lock';
const OPENED: unique symbol = Symbol('FileSpool.open');

const checksum = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, 16);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A durable, append-only on-disk spool for fail-open events: each accepted event is written as one
 * checksummed line and fsynced before `append` resolves (concurrent appends share one fsync), and
 * `replay` delivers the lines in order to a sink with `mayBeDuplicate`, so a crash at any instant
 * neither loses an accepted event nor stores one twice. A byte-offset cursor (written atomically)
 * records what the sink has confirmed; a torn last line (the process died mid-write, so the event
 * was never accepted) is ignored.
 */
export class FileSpool {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #maxBatch: number;
  #fh: FileHandle;
  #size: number;
  #cursor: number;
  #tail: Promise<unknown> = Promise.resolve();
  #queued: Array<{ line: string; resolve: () => void; reject: (e: unknown) => void }> = [];
  #flushing = false;

  private constructor(
    token: typeof OPENED,
    dir: string,
    fh: FileHandle,
    size: number,
    cursor: number,
    options: FileSpoolOptions,
  ) {
    // Only FileSpool.open constructs a spool (it takes the lock and reads the files first).
    if (token !== OPENED) {
      throw new AuditError('VALIDATION_FAILED', 'A FileSpool is opened with FileSpool.open(options)', {
        details: { what: 'spool' },
      });
    }
    this.#dir = dir;
    this.#fh = fh;
    this.#size = size;
    this.#cursor = Math.min(cursor, size);
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxBatch = options.maxBatch ?? 500;
  }

  /**
   * Open (or create) the spool in `options.dir`, taking its lock.
   * @throws AuditError `AUDIT_SPOOL_LOCKED` when another live process holds the directory; `AUDIT_SPOOL_FAILED` when the directory cannot be used
   */
  static async open(options: FileSpoolOptions): Promise<FileSpool> {
    if (typeof options?.dir !== 'string' || options.dir === '') {
      throw new AuditError('VALIDATION_FAILED', 'FileSpool.open needs a directory', {
        details: { what: 'spool dir' },
      });
    }
    for (const key of ['maxBytes', 'maxBatch'] as const) {
      const v = options[key];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) {
        throw new AuditError('VALIDATION_FAILED', `FileSpool.open: ${key} must be a positive integer`, {
          details: { what: `spool ${key}` },
        });
      }
    }
    try {
      return await FileSpool.#open(options);
    } catch (error) {
      if (error instanceof AuditError) throw error;
      throw new AuditError('AUDIT_SPOOL_FAILED', 'The audit spool directory could not be opened', {
        cause: error,
      });
    }
  }

  static async #open(options: FileSpoolOptions): Promise<FileSpool> {
    await mkdir(options.dir, { recursive: true });
    const lockPath = join(options.dir, LOCK);
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
      throw new AuditError(
        'AUDIT_SPOOL_LOCKED',
        'The audit spool directory is held by another live process',
        {
          details: { pid: holder },
        },
      );
    }
    await writeFile(lockPath, String(process.pid));
    const fh = await open(join(options.dir, LOG), 'a+');
    let { size } = await fh.stat();
    // A torn last line (the process died mid-write) was never acknowledged: cut it off, or the next
    // append would be glued to it and lost with it.
    if (size > 0) {
      const all = Buffer.alloc(size);
      await fh.read(all, 0, size, 0);
      const end = all.lastIndexOf(0x0a) + 1;
      if (end < size) {
        await fh.truncate(end);
        await fh.sync();
        size = end;
      }
    }
    const cursor =
      Number.parseInt(await readFile(join(options.dir, CURSOR), 'utf8').catch(() => '0'), 10) || 0;
    return new FileSpool(OPENED, options.dir, fh, size, cursor, options);
  }

  /** Bytes written but not yet confirmed by the sink. */
  get pendingBytes(): number {
    return this.#size - this.#cursor + this.#queued.reduce((n, q) => n + q.line.length, 0);
  }

  /** Whether undelivered events remain (new fail-open events then queue behind them, keeping order). */
  get hasPending(): boolean {
    return this.pendingBytes > 0;
  }

  /**
   * Durably append events; resolves after fsync.
   * @throws AuditError `AUDIT_SPOOL_FAILED` when the spool is full or the disk write fails
   */
  append(events: readonly PreparedEvent[]): Promise<void> {
    const line = events
      .map((e) => {
        const json = JSON.stringify({ id: e.id, chain: e.chain, text: e.text });
        return `${checksum(json)} ${json}\n`;
      })
      .join('');
    if (this.pendingBytes + line.length > this.#maxBytes) {
      return Promise.reject(
        new AuditError('AUDIT_SPOOL_FAILED', 'The audit spool is full; the event was not accepted', {
          details: { maxBytes: this.#maxBytes },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queued.push({ line, resolve, reject });
      if (!this.#flushing) void this.#groupCommit();
    });
  }

  async #groupCommit(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queued.length > 0) {
        const group = this.#queued.splice(0);
        await this.#exclusive(async () => {
          try {
            const data = Buffer.from(group.map((g) => g.line).join(''), 'utf8');
            await this.#fh.write(data, 0, data.length, null);
            await this.#fh.sync();
            this.#size += data.length;
            for (const g of group) g.resolve();
          } catch (error) {
            const failure = new AuditError(
              'AUDIT_SPOOL_FAILED',
              'Writing the audit spool failed; the event was not accepted',
              {
                cause: error,
              },
            );
            for (const g of group) g.reject(failure);
          }
        });
      }
    } finally {
      this.#flushing = false;
    }
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Deliver undelivered events to `sink` in order, in batches, advancing the cursor after each
   * confirmed batch; compacts the file when everything is delivered. Returns how many were sent.
   * Stops at the first failing batch (it is retried on the next call).
   * @throws AuditError `AUDIT_WRITE_FAILED` (the sink's error as `cause`) when a batch fails
   */
  replay(sink: AuditSink): Promise<number> {
    return this.#replay(sink).catch((error: unknown) => {
      if (isTenantryError(error)) throw error;
      throw new AuditError('AUDIT_WRITE_FAILED', `Replaying the audit spool into ${sink.name} failed`, {
        cause: error,
        details: { sink: sink.name },
      });
    });
  }

  #replay(sink: AuditSink): Promise<number> {
    return this.#exclusive(async () => {
      let sent = 0;
      if (this.#cursor >= this.#size) return 0;
      const base = this.#cursor;
      const buf = Buffer.alloc(this.#size - this.#cursor);
      await this.#fh.read(buf, 0, buf.length, base);
      let offset = 0;
      let batch: PreparedEvent[] = [];
      let batchEnd = 0;
      const deliver = async () => {
        if (batch.length > 0) await sink.append(batch, { mayBeDuplicate: true });
        sent += batch.length;
        batch = [];
        await this.#writeCursor(base + batchEnd);
      };
      while (offset < buf.length) {
        const nl = buf.indexOf(0x0a, offset);
        if (nl < 0) break; // torn tail: never acknowledged
        const raw = buf.toString('utf8', offset, nl);
        offset = nl + 1;
        const space = raw.indexOf(' ');
        const json = raw.slice(space + 1);
        if (space !== 16 || checksum(json) !== raw.slice(0, 16)) {
          batchEnd = offset; // corrupt line: it was never acknowledged either
          continue;
        }
        const rec = JSON.parse(json) as { id: string; chain: string; text: string };
        batch.push({
          id: rec.id,
          chain: rec.chain,
          text: rec.text,
          body: JSON.parse(rec.text) as AuditEventBody,
        });
        batchEnd = offset;
        if (batch.length >= this.#maxBatch) await deliver();
      }
      await deliver();
      if (this.#cursor >= this.#size) await this.#compact();
      return sent;
    });
  }

  async #writeCursor(cursor: number): Promise<void> {
    if (cursor === this.#cursor) return;
    const tmp = join(this.#dir, `${CURSOR}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(String(cursor));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.#dir, CURSOR));
    this.#cursor = cursor;
  }

  // Everything is delivered: reset the cursor first, then empty the file. A crash in between
  // replays delivered events, which the sink skips by id.
  async #compact(): Promise<void> {
    await this.#writeCursor(0).catch(() => undefined);
    if (this.#cursor !== 0) return;
    await this.#fh.truncate(0);
    await this.#fh.sync();
    this.#size = 0;
  }

  /** Close the file and release the lock. Undelivered events stay on disk for the next open. */
  async close(): Promise<void> {
    await this.#exclusive(async () => {
      await this.#fh.close();
      await unlink(join(this.#dir, LOCK)).catch(() => undefined);
    });
  }
}
