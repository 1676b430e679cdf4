import {
  type Logger,
  TelemetryAttributes,
  ValidationError,
  currentSystemScope,
  currentTenantContext,
  isTenantryError,
  noopLogger,
  parseInput,
  resolveTenantId,
  withSpan,
} from '@tenantry/core';
import { z } from 'zod';
import { CryptoFieldsError } from './errors.js';
import { describeValue } from './format.js';
import type { FieldCrypto } from './field-crypto.js';

/** One row as a rotation target scans it: its id, tenant and the stored values of the encrypted fields. */
export interface RotationRow {
  id: string;
  tenantId: string;
  values: Record<string, string | null>;
}

/** A conditional replacement: set `field` of row `id` to `next` only if it still holds `expected`. */
export interface RotationChange {
  id: string;
  tenantId: string;
  field: string;
  expected: string;
  next: string;
}

/** How many stored values of a field use a key (`keyId: null` for legacy plaintext). */
export interface KeyCensusRow {
  tenantId: string;
  field: string;
  keyId: string | null;
  count: number;
}

/**
 * A table or collection the rotation job walks. `scan` pages by id ascending (keyset pagination, so
 * rows inserted behind the cursor are caught by the app's own writes, which already use the primary
 * key); `replace` is a compare-and-set per value, so a value the app rewrote meanwhile is never
 * overwritten. `pgRotationTarget` (from `/postgres`) implements it for PostgreSQL.
 */
export interface RotationTarget {
  /** Collection name bound into the ciphertexts. */
  readonly collection: string;
  /** Field names bound into the ciphertexts (one per encrypted column). */
  readonly fields: readonly string[];
  /** Whether the row id is part of each value's context. */
  readonly bindRowId: boolean;
  /** Up to `limit` rows with id > `after` (all rows when `after` is null), ordered by id. */
  scan(after: string | null, limit: number): Promise<RotationRow[]>;
  /** Apply the changes whose `expected` value is still current; returns the indexes applied. */
  replace(changes: RotationChange[]): Promise<ReadonlySet<number>>;
  /** Count stored values per tenant, field and key id. */
  census(): Promise<KeyCensusRow[]>;
}

/** Counters of a rotation run. */
export interface RotationStats {
  /** Values read (non-null). */
  scanned: number;
  /** Values already under their tenant's primary key. */
  unchanged: number;
  /** Ciphertexts moved from an older key to the primary key. */
  reencrypted: number;
  /** Legacy plaintext values encrypted. */
  migrated: number;
  /** Values the application changed between read and write: left as the application wrote them. */
  conflicts: number;
  /**
   * Values that could not be rotated, left untouched: tampered, other context, shredded tenant, a data
   * key that does not unwrap (KEK no longer configured), or plaintext without `acceptPlaintext`.
   */
  failed: number;
}

/** Why values could not be rotated, per tenant and key id (`keyId: null` for plaintext). */
export interface RotationFailure {
  tenantId: string;
  keyId: string | null;
  /** The error code: `CRYPTO_DECRYPT_FAILED`, `CRYPTO_UNKNOWN_KEY_ID`, `CRYPTO_KEY_PROVIDER_FAILED`, `CRYPTO_PLAINTEXT_REJECTED` or `VALIDATION_FAILED`. */
  code: string;
  count: number;
}

/** Saved progress of a rotation job. */
export interface RotationCheckpoint {
  pass: number;
  cursor: string | null;
  stats: RotationStats;
  failedIds: string[];
  /** Failed values per tenant, key id and code (absent in checkpoints of older versions). */
  failures?: RotationFailure[];
  updatedAt: string;
}

/**
 * Value-level failures: the value is counted in `failed`, left as it is, and the job goes on. Anything
 * else (the key store or the target failing) stops the job; its checkpoint lets a rerun resume.
 */
/**
 * Bounds of one rotation run's in-memory state: unreadable keys remembered (so a KMS is not asked again
 * for each of their values), oldest forgotten first. Mutable for tests only.
 * @internal
 */
export const rotationLimits = { maxUnreadableKeys: 10_000 };

const VALUE_FAILURES = new Set([
  'CRYPTO_DECRYPT_FAILED',
  'CRYPTO_UNKNOWN_KEY_ID',
  'CRYPTO_KEY_PROVIDER_FAILED',
  'CRYPTO_PLAINTEXT_REJECTED',
  'VALIDATION_FAILED',
]);

const keyIdOf = (value: string): string | null => {
  const d = describeValue(value);
  return d.kind === 'ciphertext' ? d.keyId : null;
};

/** Where rotation jobs keep their checkpoints (memory, PostgreSQL, MongoDB). */
export interface CheckpointStore {
  readonly name: string;
  load(jobId: string): Promise<RotationCheckpoint | null>;
  save(jobId: string, checkpoint: RotationCheckpoint): Promise<void>;
  clear(jobId: string): Promise<void>;
}

/** Options of {@link runRotation}. */
export const RotationOptionsSchema = z.object({
  /** Stable id of the job; a rerun with the same id resumes from its checkpoint. */
  jobId: z.string().min(1).max(200),
  /** Rows per batch (one conditional write per batch and field). @default 500 */
  batchSize: z.number().int().min(1).max(10_000).optional(),
  /** Further passes while the previous pass met concurrent writes. @default 3 */
  maxPasses: z.number().int().min(1).max(100).optional(),
});

const isObjectWith =
  (...names: string[]) =>
  (v: unknown): boolean =>
    typeof v === 'object' && v !== null && names.every((n) => n in (v as object));

/** The object parts of {@link RotationOptions}, checked by shape. */
const RotationPartsSchema = z.object({
  fields: z.custom<FieldCrypto>(isObjectWith('reseal', 'keys'), 'must be a FieldCrypto'),
  target: z.custom<RotationTarget>(
    isObjectWith('scan', 'replace', 'census', 'fields'),
    'must be a RotationTarget',
  ),
  checkpoints: z.custom<CheckpointStore>(isObjectWith('load', 'save', 'clear'), 'must be a CheckpointStore'),
  signal: z.custom<AbortSignal>((s) => s instanceof AbortSignal).optional(),
  onProgress: z.custom<(c: RotationCheckpoint) => void>((f) => typeof f === 'function').optional(),
});

/** A rotation job id: what checkpoint stores are keyed by. */
export const JobIdSchema = z.string().min(1).max(200);

/** Check the arguments of a {@link CheckpointStore} call. @internal */
export function checkCheckpointArgs(jobId: unknown, ...checkpoint: unknown[]): void {
  parseInput(JobIdSchema, jobId, 'rotation job id');
  if (checkpoint.length > 0) {
    parseInput(
      z
        .object({
          pass: z.number().int().min(1),
          cursor: z.string().nullable(),
          stats: z.object({}).passthrough(),
        })
        .passthrough(),
      checkpoint[0],
      'rotation checkpoint',
    );
    try {
      JSON.stringify(checkpoint[0]);
    } catch {
      throw new ValidationError('rotation checkpoint', [{ path: [], message: 'must be JSON-serialisable' }]);
    }
  }
}

/** Input of {@link runRotation}. */
export type RotationOptions = z.input<typeof RotationOptionsSchema> & {
  fields: FieldCrypto;
  /**
   * Rotate only this tenant's values. Resolved like every tenant (invariant T1): inside
   * `runAsTenant(A)` only A (and omitting it means A); outside any context the job is refused
   * (`TENANT_CONTEXT_MISSING`); inside `runAsSystem` a named tenant, or, when omitted, every tenant of
   * the target (the back-office job).
   */
  tenantId?: string;
  target: RotationTarget;
  checkpoints: CheckpointStore;
  /** Stops the job between batches; the checkpoint lets the next run resume. */
  signal?: AbortSignal;
  /** Called after every committed batch. */
  onProgress?: (checkpoint: RotationCheckpoint) => void;
  logger?: Logger;
};

/** What {@link runRotation} reports. */
export interface RotationReport extends RotationStats {
  passes: number;
  /** Cursor the run resumed from, or null for a fresh start. */
  resumedFrom: string | null;
  /** Ids of rows with values that could not be rotated (first 100). */
  failedIds: string[];
  /**
   * Failed values per tenant, key id and error code: e.g. a tenant whose data key was wrapped by a KEK
   * no longer configured shows up as `CRYPTO_KEY_PROVIDER_FAILED` here while other tenants rotate.
   */
  failures: RotationFailure[];
  /** After the run: stored values per key id (`plaintext` for legacy values), all tenants and fields. */
  remainingByKeyId: Record<string, number>;
}

const emptyStats = (): RotationStats => ({
  scanned: 0,
  unchanged: 0,
  reencrypted: 0,
  migrated: 0,
  conflicts: 0,
  failed: 0,
});

/**
 * Re-encrypt every value of a target under its tenant's primary key, in batches, while the application
 * keeps reading and writing. Legacy plaintext is encrypted on the way. Progress is checkpointed after
 * each batch; a crashed or aborted job resumes from its checkpoint when run again with the same `jobId`.
 * Each write is conditional on the value read, so a value the application wrote meanwhile is kept.
 * @throws CryptoFieldsError `CRYPTO_ROTATION_ABORTED` when `signal` aborts (progress is saved)
 * @example const report = await runRotation({ fields, target, checkpoints, jobId: 'settings-2026-11' });
 */
export async function runRotation(options: RotationOptions): Promise<RotationReport> {
  parseInput(RotationPartsSchema, options, 'rotation options');
  const opts = parseInput(
    RotationOptionsSchema,
    { jobId: options.jobId, batchSize: options.batchSize, maxPasses: options.maxPasses },
    'rotation options',
  );
  const { fields, target, checkpoints, signal } = options;
  // Every tenant only inside the audited system scope and when no tenant is named or in context.
  const onlyTenant =
    options.tenantId === undefined &&
    currentTenantContext() === undefined &&
    currentSystemScope() !== undefined
      ? undefined
      : resolveTenantId(options.tenantId, 'rotation job');
  const logger = options.logger ?? noopLogger;
  const batchSize = opts.batchSize ?? 500;
  const maxPasses = opts.maxPasses ?? 3;
  const saved = await checkpoints.load(opts.jobId);
  const resumedFrom = saved?.cursor ?? null;
  let cp: RotationCheckpoint = saved ?? {
    pass: 1,
    cursor: null,
    stats: emptyStats(),
    failedIds: [],
    updatedAt: new Date().toISOString(),
  };
  let passConflicts = 0;
  // Keys that did not unwrap in this run, by `tenant\0keyId` (`tenant\0*`: the tenant's primary key).
  // Bounded (a run over millions of tenants): beyond it the oldest is forgotten, and asked again.
  const unreadable = new Map<string, string>();
  for (;;) {
    if (signal?.aborted) {
      throw new CryptoFieldsError(
        'CRYPTO_ROTATION_ABORTED',
        'The rotation job was aborted; rerun it to resume',
        {
          details: { jobId: opts.jobId, cursor: cp.cursor, pass: cp.pass },
        },
      );
    }
    const batch = await withSpan(
      'crypto-fields',
      'rotation.batch',
      {
        'crypto.rotation.job_id': opts.jobId,
        'crypto.rotation.pass': cp.pass,
        ...(onlyTenant === undefined ? {} : { [TelemetryAttributes.TENANT_ID]: onlyTenant }),
      },
      async () => {
        const rows = await target.scan(cp.cursor, batchSize);
        if (rows.length === 0) {
          return null;
        }
        const stats = { ...cp.stats };
        const failedIds = [...cp.failedIds];
        const failures = (cp.failures ?? []).map((f) => ({ ...f }));
        const fail = (row: RotationRow, keyId: string | null, code: string) => {
          stats.failed++;
          if (failedIds.length < 100 && !failedIds.includes(row.id)) failedIds.push(row.id);
          const f = failures.find((x) => x.tenantId === row.tenantId && x.keyId === keyId && x.code === code);
          if (f) f.count++;
          else if (failures.length < 1000) failures.push({ tenantId: row.tenantId, keyId, code, count: 1 });
        };
        const changes: RotationChange[] = [];
        const migrated: boolean[] = [];
        for (const row of rows) {
          if (onlyTenant !== undefined && row.tenantId !== onlyTenant) continue;
          for (const field of target.fields) {
            const value = row.values[field];
            if (value === null || value === undefined) continue;
            stats.scanned++;
            const keyId = keyIdOf(value);
            const known =
              unreadable.get(`${row.tenantId}\u0000*`) ?? unreadable.get(`${row.tenantId}\u0000${keyId}`);
            if (known !== undefined) {
              fail(row, keyId, known);
              continue;
            }
            try {
              const r = await fields.reseal(value, {
                tenantId: row.tenantId,
                collection: target.collection,
                field,
                rowId: target.bindRowId ? row.id : undefined,
              });
              if (r.next === null) stats.unchanged++;
              else {
                changes.push({ id: row.id, tenantId: row.tenantId, field, expected: value, next: r.next });
                migrated.push(r.fromKeyId === null);
              }
            } catch (error) {
              if (!isTenantryError(error) || !VALUE_FAILURES.has(error.code)) throw error;
              if (error.code === 'CRYPTO_KEY_PROVIDER_FAILED') {
                // Do not ask the provider again for this key during this run (a KMS would be hammered).
                const failedKey = error.details.keyId;
                unreadable.set(
                  `${row.tenantId}\u0000${failedKey === keyId ? keyId : '*'}`,
                  'CRYPTO_KEY_PROVIDER_FAILED',
                );
                if (unreadable.size > rotationLimits.maxUnreadableKeys) {
                  unreadable.delete(unreadable.keys().next().value as string);
                }
              }
              fail(row, keyId, error.code);
            }
          }
        }
        const applied = changes.length > 0 ? await target.replace(changes) : new Set<number>();
        changes.forEach((_, i) => {
          if (!applied.has(i)) stats.conflicts++;
          else if (migrated[i]) stats.migrated++;
          else stats.reencrypted++;
        });
        const next: RotationCheckpoint = {
          pass: cp.pass,
          cursor: rows[rows.length - 1]!.id,
          stats,
          failedIds,
          failures,
          updatedAt: new Date().toISOString(),
        };
        return { cp: next, conflicts: changes.length - applied.size };
      },
    );
    if (batch === null) {
      if (passConflicts > 0 && cp.pass < maxPasses) {
        cp = { ...cp, pass: cp.pass + 1, cursor: null };
        passConflicts = 0;
        await checkpoints.save(opts.jobId, cp);
        continue;
      }
      break;
    }
    cp = batch.cp;
    passConflicts += batch.conflicts;
    await checkpoints.save(opts.jobId, cp);
    options.onProgress?.(cp);
  }
  await checkpoints.clear(opts.jobId);
  const remainingByKeyId: Record<string, number> = {};
  for (const c of await target.census()) {
    if (onlyTenant !== undefined && c.tenantId !== onlyTenant) continue;
    const k = c.keyId ?? 'plaintext';
    remainingByKeyId[k] = (remainingByKeyId[k] ?? 0) + c.count;
  }
  const report: RotationReport = {
    ...cp.stats,
    passes: cp.pass,
    resumedFrom,
    failedIds: cp.failedIds,
    failures: cp.failures ?? [],
    remainingByKeyId,
  };
  logger.info({ jobId: opts.jobId, ...cp.stats, passes: cp.pass }, 'crypto-fields: rotation finished');
  return report;
}
