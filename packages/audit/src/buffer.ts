import { AuditError } from './errors.js';
import type { ChainedEvent, PreparedEvent } from './event.js';
import type { AuditSink } from './audit-sink.js';
import { withSpan } from '@tenantry/core';

/** Options of the bounded write buffer. */
export interface BatchWriterOptions {
  /** Most events written in one sink call. @default 500 */
  maxBatch?: number;
  /** Most events waiting in memory; further writers wait (backpressure). @default 10000 */
  maxPending?: number;
  /** How long a lone event waits for company before its batch is written, in ms. @default 2 */
  lingerMs?: number;
  /** When the buffer is full: wait for room (backpressure) or reject at once with `AUDIT_BUFFER_FULL`. @default 'wait' */
  whenFull?: 'wait' | 'reject';
  /** Called with every failed batch's error (in addition to rejecting the writers' promises). */
  onError?: (error: unknown, events: readonly PreparedEvent[]) => void;
}

interface Pending {
  event: PreparedEvent;
  resolve: (e: ChainedEvent | undefined) => void;
  reject: (e: unknown) => void;
}

/**
 * A bounded in-memory buffer in front of a sink: it groups concurrent writes into batches (one
 * sink call, one transaction), makes writers wait when `maxPending` events are queued, and rejects
 * each writer whose batch failed, so no failure is silent (invariant A4).
 */
export class BatchWriter {
  readonly #sink: AuditSink;
  readonly #maxBatch: number;
  readonly #maxPending: number;
  readonly #lingerMs: number;
  readonly #onError: BatchWriterOptions['onError'];
  readonly #whenFull: 'wait' | 'reject';
  #queue: Pending[] = [];
  #waiters: Array<() => void> = [];
  #running = false;
  #closed = false;
  #idle: Promise<void> = Promise.resolve();
  #idleResolve: (() => void) | undefined;

  constructor(sink: AuditSink, options: BatchWriterOptions = {}) {
    this.#sink = sink;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxPending = options.maxPending ?? 10_000;
    this.#lingerMs = options.lingerMs ?? 2;
    this.#onError = options.onError;
    this.#whenFull = options.whenFull ?? 'wait';
  }

  /** Events queued or being written. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Queue one event; resolves with the stored event when its batch is durable in the sink.
   * Waits while the buffer is full (or rejects, with `whenFull: 'reject'`).
   * @throws AuditError `AUDIT_CLOSED` after close; `AUDIT_WRITE_FAILED` when the batch fails; `AUDIT_BUFFER_FULL`
   */
  write(event: PreparedEvent): Promise<ChainedEvent | undefined> {
    // The common case (room, open) hands back the event's own promise: no async wrapper around it.
    if (this.#queue.length < this.#maxPending && !this.#closed) return this.#enqueue(event);
    return this.#writeSlow(event);
  }

  #enqueue(event: PreparedEvent): Promise<ChainedEvent | undefined> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (!this.#running) this.#start();
    });
  }

  async #writeSlow(event: PreparedEvent): Promise<ChainedEvent | undefined> {
    if (this.#whenFull === 'reject' && this.#queue.length >= this.#maxPending && !this.#closed) {
      throw new AuditError('AUDIT_BUFFER_FULL', 'The audit buffer is full', {
        details: { maxPending: this.#maxPending },
      });
    }
    while (this.#queue.length >= this.#maxPending && !this.#closed) {
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    if (this.#closed) throw new AuditError('AUDIT_CLOSED', 'The audit log is closed');
    return this.#enqueue(event);
  }

  /** Resolves when everything queued so far has been written or has failed. */
  async flush(): Promise<void> {
    await this.#idle;
  }

  /** Stop accepting events and wait for the queued ones. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w();
    await this.flush();
  }

  #start(): void {
    this.#running = true;
    this.#idle = new Promise((r) => {
      this.#idleResolve = r;
    });
    void this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        if (this.#queue.length < this.#maxBatch && this.#lingerMs > 0) {
          await new Promise((r) => setTimeout(r, this.#lingerMs));
        }
        const batch = this.#queue.slice(0, this.#maxBatch);
        try {
          const stored = await withSpan(
            'audit',
            'append',
            { 'tenantry.audit.sink': this.#sink.name, 'tenantry.audit.events': batch.length },
            () => this.#sink.append(batch.map((p) => p.event)),
          );
          const byId = new Map(stored.map((s) => [s.id, s]));
          for (const p of batch) p.resolve(byId.get(p.event.id));
        } catch (error) {
          this.#onError?.(
            error,
            batch.map((p) => p.event),
          );
          const failure = new AuditError(
            'AUDIT_WRITE_FAILED',
            `Audit sink ${this.#sink.name} failed to store a batch`,
            {
              cause: error,
              details: { sink: this.#sink.name, events: batch.length },
            },
          );
          for (const p of batch) p.reject(failure);
        }
        this.#queue.splice(0, batch.length);
        for (const w of this.#waiters.splice(0, this.#maxPending - this.#queue.length)) w();
      }
    } finally {
      this.#running = false;
      this.#idleResolve?.();
    }
  }
}
