import {
  type AuditPort,
  type AuditPortEvent,
  type Clock,
  type Logger,
  TelemetryAttributes,
  createUuidV7Generator,
  noopLogger,
  parseInput,
  requireTenant,
  systemClock,
  withSpan,
} from '@tenantry/core';
import { z } from 'zod';
import { BatchWriter } from './buffer.js';
import type { ChainHead } from './chain.js';
import {
  type Checkpoint,
  checkpointKeyId,
  publicKeyOf,
  signCheckpoint,
  verifyCheckpointSignature,
} from './checkpoint.js';
import { AuditError } from './errors.js';
import { invalid, isRecord } from './guards.js';
import {
  type AuditEventBody,
  type AuditEventInput,
  AuditEventInputSchema,
  AuditLimitsSchema,
  type AuditLimits,
  type ChainedEvent,
  PLATFORM_CHAIN,
  type PreparedEvent,
  prepareEvent,
} from './event.js';
import { parseEventInput } from './event-input.js';
import { exportLines } from './export.js';
import { type Masker, type MaskingOptions, createMasker } from './masking.js';
import { type AuditSink, type ReadableAuditSink, isReadable } from './audit-sink.js';
import type { FileSpool } from './spool.js';
import { type TrailKey, TrailKeySchema, resolveChain, resolvePortChain } from './trail-scope.js';
import { type ChainAnchor, type VerifyFailureKind, type VerifyResult, verifyEvents } from './verify.js';

/** Whether an action fails when its audit event cannot be written (`closed`) or falls back to the spool (`open`). */
export type FailureMode = 'closed' | 'open';

/** How events reach the sink. */
export type DeliveryOptions =
  /** Each `record` call writes its event itself and resolves when it is stored. */
  | { mode: 'direct' }
  /** A bounded buffer batches concurrent events; `record` still resolves only once its batch is stored. */
  | {
      mode: 'buffered';
      /** @default 500 */
      maxBatch?: number;
      /** @default 10000 */
      maxPending?: number;
      /** @default 2 */
      lingerMs?: number;
      /** @default 'wait' */
      whenFull?: 'wait' | 'reject';
    };

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  /** Where events are stored. */
  sink: AuditSink;
  /** Masking of secrets and personal data (paths, replacement), or a ready masker. @default createMasker() */
  masking?: MaskingOptions | Masker;
  /** Size limits of metadata and changes. */
  limits?: AuditLimits;
  /** @default { mode: 'buffered' } */
  delivery?: DeliveryOptions;
  /**
   * Per action: fail closed (the default: `record` rejects when the write fails, so the caller can
   * refuse the action) or fail open (the event goes to `spool` and `record` resolves).
   * @default () => 'closed'
   */
  failureMode?: (action: string) => FailureMode;
  /** Durable on-disk spool for fail-open actions; required if any action fails open. */
  spool?: FileSpool;
  /** Ed25519 secret key (hex) that signs checkpoints. */
  signingKey?: string;
  /** Ed25519 public keys (hex) whose checkpoints `verify` trusts (include old keys after a rotation). */
  publicKeys?: readonly string[];
  /** @default systemClock */
  clock?: Clock;
  /** Event id generator. @default createUuidV7Generator(clock) */
  newId?: () => string;
  /** Where delivery failures are reported (never with event contents). @default noopLogger */
  logger?: Logger;
  /** Batch size of `verify` and `export` reads. @default 5000 */
  readBatch?: number;
}

/** An event as stored, with its chain fields. */
export interface StoredAuditEvent extends AuditEventBody {
  readonly seq: number;
  readonly recordedAt: number;
  readonly prevHash: string;
  readonly hash: string;
}

/** Filters of {@link AuditLog.query}. */
export const AuditQuerySchema = z.object({
  /**
   * The trail to read: omitted for the current tenant context, a tenant id (core's `resolveTenantId`
   * rule), or `null` for the platform trail (inside `runAsSystem` only).
   */
  tenantId: TrailKeySchema,
  /** `occurredAt >= from`. */
  from: z
    .union([z.date(), z.number().int(), z.iso.datetime({ offset: true })])
    .transform((v) => new Date(v).getTime())
    .optional(),
  /** `occurredAt < to`. */
  to: z
    .union([z.date(), z.number().int(), z.iso.datetime({ offset: true })])
    .transform((v) => new Date(v).getTime())
    .optional(),
  actorId: z.string().min(1).max(256).optional(),
  action: z.string().min(1).max(128).optional(),
  target: z.object({ type: z.string().min(1).max(64), id: z.string().min(1).max(256).optional() }).optional(),
  /** Page size. @default 100 */
  limit: z.number().int().min(1).max(1000).default(100),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(200).optional(),
});
export type AuditQuery = z.input<typeof AuditQuerySchema>;

/** Range and anchors of {@link AuditLog.verify}. */
export const VerifyOptionsSchema = z.object({
  /** @default 1 */
  fromSeq: z.number().int().min(1).optional(),
  toSeq: z.number().int().min(1).optional(),
  /** Checkpoints the caller kept (they must be signed by one of `publicKeys`). */
  checkpoints: z.array(z.unknown()).optional(),
  /** Also check against the checkpoints stored in the sink. @default true */
  useStoredCheckpoints: z.boolean().default(true),
  /**
   * Check the store's query columns against each event's hashed body (`index-mismatch`). Costs a
   * JSON parse per event; `false` proves the chain only. @default true
   */
  checkIndex: z.boolean().default(true),
});
export type VerifyOptions = z.input<typeof VerifyOptionsSchema>;

/** Options of {@link AuditLog.checkpoint}. */
export const CheckpointOptionsSchema = z.object({
  /**
   * Checkpoints the caller kept outside the store (signed by `publicKeys` or the signing key). With
   * the stored ones, the latest at or below the head anchors the check before signing.
   */
  checkpoints: z.array(z.unknown()).optional(),
});
export type CheckpointOptions = z.input<typeof CheckpointOptionsSchema>;

/** The audit log: record, verify, checkpoint, query, export. */
export interface AuditLog {
  /**
   * Validate, mask and store an event. Resolves once it is durably accepted (stored, or spooled for
   * a fail-open action). Rejects otherwise, so the caller can fail closed. The event's tenant follows
   * the trail rule (see the README): omitted → the context's tenant; inside `runAsTenant(A)` only A;
   * outside any context refused; `null` (a platform event) only inside `runAsSystem`.
   * @throws ValidationError `VALIDATION_FAILED`; TenantryError `TENANT_CONTEXT_MISSING` | `TENANT_CONTEXT_CONFLICT` | `SYSTEM_SCOPE_REQUIRED`; AuditError `AUDIT_WRITE_FAILED` | `AUDIT_SPOOL_FAILED` | `AUDIT_EVENT_TOO_LARGE` | `AUDIT_VALUE_UNSUPPORTED` | `AUDIT_CLOSED`
   */
  record(event: AuditEventInput): Promise<{ id: string }>;
  /**
   * Record an event for the current tenant context (tenant, actor, impersonator and request id
   * come from core's context).
   * @throws TenantryError `TENANT_CONTEXT_MISSING`, and as {@link AuditLog.record}
   */
  recordInContext(
    event: Omit<AuditEventInput, 'tenantId' | 'actor' | 'impersonator'>,
  ): Promise<{ id: string }>;
  /**
   * Core's `AuditPort`, for `runAsSystem`, impersonation and the approvals engine. Platform events
   * (`tenantId: null`, e.g. `system_scope.entered`) are always accepted; a tenant event inside a
   * tenant context must name that tenant (`TENANT_CONTEXT_CONFLICT`); outside any context or inside
   * the system scope a tenant event is accepted as named, because core writes some of its events
   * where no context exists by design (see `resolvePortChain`).
   */
  readonly port: AuditPort;
  /**
   * Walk a trail's chain and report the first modified, deleted, inserted or reordered event.
   * `tenantId` follows the trail rule: omitted → the context's tenant; `null` → the platform trail
   * (system scope only).
   * @throws TenantryError `TENANT_CONTEXT_MISSING` | `TENANT_CONTEXT_CONFLICT` | `SYSTEM_SCOPE_REQUIRED`; AuditError `AUDIT_CAPABILITY_MISSING` on a write-only sink; `AUDIT_CHECKPOINT_INVALID` on a checkpoint with a bad signature
   */
  verify(tenantId?: TrailKey, options?: VerifyOptions): Promise<VerifyResult>;
  /**
   * Sign the chain's current head, store the checkpoint in the sink and return it (keep a copy
   * outside the database: that copy is what proves the log was not rewritten). `null` when the trail
   * is still empty. Before signing, the events after the latest trusted checkpoint (stored, or kept
   * and passed in `options.checkpoints`; from the first event when there is none) are verified up
   * to the head, so a signature never vouches for a chain that does not verify. That costs one walk
   * of those events: take checkpoints regularly (e.g. nightly) and the walk stays short.
   * @throws TenantryError as {@link AuditLog.verify}; AuditError `AUDIT_CAPABILITY_MISSING` without a signing key or a readable sink; `AUDIT_CHECKPOINT_INVALID` for a checkpoint not signed by a trusted key; `AUDIT_CHAIN_BROKEN` (details: `chain`, `firstBadSeq`, `kind` as in {@link VerifyResult}) when the chain does not verify, and then nothing is signed or stored
   */
  checkpoint(tenantId?: TrailKey, options?: CheckpointOptions): Promise<Checkpoint | null>;
  /**
   * Events matching a filter, in sequence order, with a cursor for the next page.
   * @throws TenantryError as {@link AuditLog.verify}; AuditError `AUDIT_CURSOR_INVALID` | `AUDIT_CAPABILITY_MISSING`
   */
  query(query?: AuditQuery): Promise<{ events: StoredAuditEvent[]; nextCursor: string | null }>;
  /**
   * The trail as JSON lines (header, events, checkpoints); see `verifyExport`. The trail is resolved
   * when this is called (the rule of {@link AuditLog.verify}), not when it is iterated.
   * @throws TenantryError as {@link AuditLog.verify}, at the call
   */
  exportTrail(tenantId?: TrailKey): AsyncIterable<string>;
  /** Deliver spooled events now. Returns how many were delivered. */
  replaySpool(): Promise<number>;
  /** Wait until buffered events are written. */
  flush(): Promise<void>;
  /** Flush, stop accepting events, stop the spool timer. Does not close the sink or spool. */
  close(): Promise<void>;
}

const cursorOf = (chain: string, seq: number) =>
  Buffer.from(JSON.stringify([chain, seq])).toString('base64url');
function parseCursor(cursor: string, chain: string): number {
  try {
    const [c, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (c === chain && typeof seq === 'number' && Number.isInteger(seq) && seq >= 0) return seq;
  } catch {
    // fall through
  }
  throw new AuditError('AUDIT_CURSOR_INVALID', 'The query cursor is malformed or belongs to another tenant');
}

/**
 * An event as stored, decoded.
 * @throws ValidationError `VALIDATION_FAILED` when `e.text` is not the JSON text of an event body
 */
export function decodeStored(e: ChainedEvent): StoredAuditEvent {
  const what = 'stored audit event';
  if (!isRecord(e)) invalid(what, '', 'must be a chained event');
  if (typeof e.text !== 'string') invalid(what, 'text', 'must be a string');
  let body: unknown;
  try {
    body = JSON.parse(e.text);
  } catch {
    body = undefined;
  }
  if (!isRecord(body)) invalid(what, 'text', 'must be the JSON text of an event body');
  return {
    ...(body as unknown as AuditEventBody),
    seq: e.seq,
    recordedAt: e.recordedAt,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

/**
 * Create an audit log over a sink.
 * @throws ValidationError `VALIDATION_FAILED` without a sink, with malformed options or keys
 * @example
 * const log = createAuditLog({ sink: new PostgresAuditSink({ pool }), signingKey, publicKeys: [publicKey] });
 * // inside runAsTenant({ tenantId: 'acme', … }), e.g. in a request handler:
 * await log.record({ actor: { id: 'u1' }, action: 'plan.changed', outcome: 'success' });
 * const result = await log.verify();
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const sink = options?.sink;
  if (!sink || typeof sink.append !== 'function' || typeof sink.capabilities !== 'object') {
    throw new AuditError('VALIDATION_FAILED', 'createAuditLog needs a sink (an AuditSink)', {
      details: { what: 'audit log sink' },
    });
  }
  // Fail at construction, not at the first checkpoint, on malformed keys (the keys are never echoed).
  if (options.signingKey !== undefined) checkpointKeyId(publicKeyOf(options.signingKey));
  for (const k of options.publicKeys ?? []) checkpointKeyId(k);
  const clock = options.clock ?? systemClock;
  const newId = options.newId ?? createUuidV7Generator(clock);
  const masker: Masker =
    options.masking && 'mask' in options.masking ? options.masking : createMasker(options.masking ?? {});
  const limits = parseInput(AuditLimitsSchema, options.limits ?? {}, 'audit limits');
  const logger = options.logger ?? noopLogger;
  const failureMode = options.failureMode ?? (() => 'closed' as const);
  const readBatch = options.readBatch ?? 5000;
  const delivery = options.delivery ?? { mode: 'buffered' };
  const onError = (error: unknown, events: readonly PreparedEvent[]) =>
    logger.error(
      { sink: sink.name, events: events.length, code: (error as { code?: string }).code },
      'audit write failed',
    );
  const writer = delivery.mode === 'buffered' ? new BatchWriter(sink, { ...delivery, onError }) : undefined;
  const spool = options.spool;
  let closed = false;
  let replayTimer: NodeJS.Timeout | undefined;

  const direct = async (e: PreparedEvent): Promise<void> => {
    try {
      await sink.append([e]);
    } catch (error) {
      onError(error, [e]);
      throw new AuditError('AUDIT_WRITE_FAILED', `Audit sink ${sink.name} failed to store an event`, {
        cause: error,
        details: { sink: sink.name },
      });
    }
  };
  // Not async: the event's promise is the writer's own (each async layer adds a promise, and with
  // AsyncLocalStorage active every promise runs hooks).
  const write = (e: PreparedEvent): Promise<unknown> => (writer ? writer.write(e) : direct(e));

  const scheduleReplay = () => {
    if (replayTimer || closed || !spool) return;
    replayTimer = setTimeout(() => {
      replayTimer = undefined;
      replaySpool().catch((error) => {
        logger.warn(
          { sink: sink.name, code: (error as { code?: string }).code },
          'audit spool replay failed; will retry',
        );
        scheduleReplay();
      });
    }, 1000);
    replayTimer.unref();
  };

  const replaySpool = async (): Promise<number> => {
    if (!spool) return 0;
    const n = await spool.replay(sink);
    if (spool.hasPending) scheduleReplay();
    return n;
  };

  const recordFor = async (
    input: AuditEventInput,
    resolve: (parsed: z.output<typeof AuditEventInputSchema>) => string,
  ): Promise<{ id: string }> => {
    if (closed) throw new AuditError('AUDIT_CLOSED', 'The audit log is closed');
    const parsed = parseEventInput(input);
    const chain = resolve(parsed);
    const tenantId = chain === PLATFORM_CHAIN ? null : chain;
    return withSpan(
      'audit',
      'record',
      {
        [TelemetryAttributes.TENANT_ID]: chain,
        'tenantry.audit.action': parsed.action,
        'tenantry.audit.sink': sink.name,
      },
      // `parsed` is this call's own fresh object (parseEventInput copies): set in place, not spread
      // into a copy (a spread of its varying shape measured at several µs per event).
      () => {
        (parsed as { tenantId?: string | null }).tenantId = tenantId;
        return recordParsed(parsed as typeof parsed & { tenantId: string | null });
      },
    );
  };
  const record = (input: AuditEventInput) =>
    recordFor(input, (parsed) => resolveChain(parsed.tenantId, 'audit trail'));

  const recordParsed = (
    parsed: z.output<typeof AuditEventInputSchema> & { tenantId: string | null },
  ): Promise<{ id: string }> => {
    // Runs inside withSpan's callback, which turns a synchronous throw into a rejection.
    const prepared = prepareEvent(parsed, { id: newId(), now: clock.now().getTime(), masker, limits });
    if (failureMode(parsed.action) === 'closed') {
      const id = { id: prepared.id };
      return write(prepared).then(() => id);
    }
    return recordOpen(parsed.action, prepared);
  };

  const recordOpen = async (action: string, prepared: PreparedEvent): Promise<{ id: string }> => {
    if (!spool) {
      throw new AuditError('AUDIT_SPOOL_FAILED', `Action ${action} fails open but no spool is configured`);
    }
    // Fail open: once something is spooled, later fail-open events queue behind it to keep order.
    if (!spool.hasPending) {
      try {
        await write(prepared);
        return { id: prepared.id };
      } catch {
        // fall through to the spool
      }
    }
    await spool.append([prepared]);
    scheduleReplay();
    return { id: prepared.id };
  };

  const readable = (): ReadableAuditSink => {
    if (!isReadable(sink)) {
      throw new AuditError(
        'AUDIT_CAPABILITY_MISSING',
        `Audit sink ${sink.name} is write-only; read it where its output is stored`,
        {
          details: { sink: sink.name },
        },
      );
    }
    return sink;
  };

  async function* batches(s: ReadableAuditSink, chain: string, fromSeq: number, toSeq?: number) {
    let after = fromSeq - 1;
    let next = s.readChain(chain, after, readBatch, toSeq);
    while (true) {
      const rows = await next;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.seq;
      // Prefetch the next page while the caller hashes this one.
      next =
        rows.length < readBatch || (toSeq !== undefined && after >= toSeq)
          ? Promise.resolve([])
          : s.readChain(chain, after, readBatch, toSeq);
      yield rows;
    }
  }

  const trustedAnchors = (
    chain: string,
    checkpoints: readonly unknown[],
    keys: readonly string[] = options.publicKeys ?? [],
  ): ChainAnchor[] => {
    return checkpoints.map((cp) => {
      if (!verifyCheckpointSignature(cp, keys) || (cp as Checkpoint).chain !== chain) {
        throw new AuditError(
          'AUDIT_CHECKPOINT_INVALID',
          'A checkpoint is not signed by a trusted key or names another chain',
          {
            details: { chain },
          },
        );
      }
      const c = cp as Checkpoint;
      return { seq: c.seq, hash: c.hash };
    });
  };

  // The events after the latest anchor at or below the head, checked up to the head: what a new
  // checkpoint would vouch for. An anchor beyond the head means the tail was removed.
  const verifySinceAnchor = async (
    s: ReadableAuditSink,
    chain: string,
    head: ChainHead,
    anchors: readonly ChainAnchor[],
  ): Promise<VerifyResult> => {
    const fail = (firstBadSeq: number, kind: VerifyFailureKind): VerifyResult => ({
      ok: false,
      chain,
      checked: 0,
      firstBadSeq,
      kind,
    });
    const beyond = anchors.filter((a) => a.seq > head.seq);
    if (beyond.length > 0) return fail(head.seq + 1, 'truncated');
    const latest = anchors.reduce<ChainAnchor | undefined>(
      (m, a) => (m && m.seq >= a.seq ? m : a),
      undefined,
    );
    const fromSeq = latest ? latest.seq + 1 : 1;
    if (latest && latest.seq === head.seq) {
      // Nothing new since the anchor: the head must be the anchored event (and every anchor agree).
      const disagree = anchors.some((a) => a.seq === head.seq && a.hash !== head.hash);
      return disagree ? fail(head.seq, 'checkpoint-mismatch') : { ok: true, chain, checked: 0, head };
    }
    const result = await verifyEvents(chain, batches(s, chain, fromSeq, head.seq), {
      fromSeq,
      toSeq: head.seq,
      anchors,
    });
    if (!result.ok) return result;
    // The walk must end at the head the store reported, or the head row itself is not what was walked.
    if (result.head?.seq !== head.seq || result.head?.hash !== head.hash) return fail(head.seq, 'modified');
    return result;
  };

  const log: AuditLog = {
    record,
    async recordInContext(event) {
      const ctx = requireTenant();
      return record({
        ...event,
        tenantId: ctx.tenantId,
        actor: ctx.actor,
        impersonator: ctx.impersonator,
        request:
          ctx.requestId && !event.request?.requestId
            ? { ...event.request, requestId: ctx.requestId }
            : event.request,
      });
    },
    port: {
      async record(e: AuditPortEvent): Promise<void> {
        await recordFor(
          {
            tenantId: e.tenantId,
            actor: e.actor,
            impersonator: e.impersonator,
            action: e.action,
            targets: e.targets?.map((t) => ({ ...t })),
            outcome: e.outcome,
            occurredAt: e.occurredAt,
            metadata: e.metadata ? { ...e.metadata } : undefined,
            request: e.request ? { ...e.request } : undefined,
          },
          () => resolvePortChain(e.tenantId),
        );
      },
    },
    async verify(tenantId, opts = {}) {
      const chain = resolveChain(parseInput(TrailKeySchema, tenantId, 'audit trail'), 'audit trail');
      const o = parseInput(VerifyOptionsSchema, opts, 'verify options');
      const s = readable();
      return withSpan(
        'audit',
        'verify',
        { [TelemetryAttributes.TENANT_ID]: chain, 'tenantry.audit.sink': sink.name },
        async (span) => {
          const stored =
            o.useStoredCheckpoints && s.capabilities.checkpoints ? await s.listCheckpoints(chain) : [];
          const anchors = trustedAnchors(chain, [...stored, ...(o.checkpoints ?? [])]);
          const result = await verifyEvents(chain, batches(s, chain, o.fromSeq ?? 1, o.toSeq), {
            fromSeq: o.fromSeq,
            toSeq: o.toSeq,
            anchors,
            checkIndex: o.checkIndex,
          });
          span.setAttributes({ 'tenantry.audit.checked': result.checked, 'tenantry.audit.ok': result.ok });
          return result;
        },
      );
    },
    async checkpoint(tenantId, opts = {}) {
      const chain = resolveChain(parseInput(TrailKeySchema, tenantId, 'audit trail'), 'audit trail');
      const o = parseInput(CheckpointOptionsSchema, opts, 'checkpoint options');
      const signingKey = options.signingKey;
      if (!signingKey)
        throw new AuditError('AUDIT_CAPABILITY_MISSING', 'No signing key configured for checkpoints');
      const s = readable();
      return withSpan(
        'audit',
        'checkpoint',
        { [TelemetryAttributes.TENANT_ID]: chain, 'tenantry.audit.sink': sink.name },
        async (span) => {
          const head = await s.head(chain);
          if (!head) return null;
          const stored = s.capabilities.checkpoints ? await s.listCheckpoints(chain) : [];
          // This log's own earlier checkpoints are trusted even when publicKeys omits its key.
          const keys = [...(options.publicKeys ?? []), publicKeyOf(signingKey)];
          const anchors = trustedAnchors(chain, [...stored, ...(o.checkpoints ?? [])], keys);
          const result = await verifySinceAnchor(s, chain, head, anchors);
          span.setAttributes({ 'tenantry.audit.checked': result.checked, 'tenantry.audit.ok': result.ok });
          if (!result.ok) {
            throw new AuditError(
              'AUDIT_CHAIN_BROKEN',
              `The audit trail does not verify from seq ${result.firstBadSeq} (${result.kind}); no checkpoint was signed`,
              { details: { chain, firstBadSeq: result.firstBadSeq, kind: result.kind } },
            );
          }
          const cp = signCheckpoint(chain, head, signingKey, clock.now().getTime());
          if (s.capabilities.checkpoints) await s.putCheckpoint(cp);
          return cp;
        },
      );
    },
    async query(q = {}) {
      const parsed = parseInput(AuditQuerySchema, q, 'audit query');
      const chain = resolveChain(parsed.tenantId, 'audit trail');
      const afterSeq = parsed.cursor ? parseCursor(parsed.cursor, chain) : 0;
      const s = readable();
      const rows = await withSpan(
        'audit',
        'query',
        { [TelemetryAttributes.TENANT_ID]: chain, 'tenantry.audit.sink': sink.name },
        () =>
          s.query({
            chain,
            afterSeq,
            limit: parsed.limit + 1,
            from: parsed.from,
            to: parsed.to,
            actorId: parsed.actorId,
            action: parsed.action,
            target: parsed.target,
          }),
      );
      const page = rows.slice(0, parsed.limit);
      const last = page[page.length - 1];
      return {
        events: page.map(decodeStored),
        nextCursor: rows.length > parsed.limit && last ? cursorOf(chain, last.seq) : null,
      };
    },
    exportTrail(tenantId) {
      const chain = resolveChain(parseInput(TrailKeySchema, tenantId, 'audit trail'), 'audit trail');
      const s = readable();
      return exportLines(chain, batches(s, chain, 1), () =>
        s.capabilities.checkpoints ? s.listCheckpoints(chain) : Promise.resolve([]),
      );
    },
    replaySpool,
    async flush() {
      await writer?.flush();
    },
    async close() {
      closed = true;
      if (replayTimer) clearTimeout(replayTimer);
      await writer?.close();
    },
  };
  return log;
}
