import { type AuditPortEvent, TenantryError } from '@tenantry/core';
import { currentActor } from './actor.js';
import { VaultError } from './errors.js';
import type { VaultModule, VaultRecordUpgrade } from './module.js';
import type { VaultRuntime } from './runtime.js';
import { type OpenedSnapshot, openSnapshot, readSnapshot, verifyData } from './snapshot/reader.js';
import type { SnapshotManifest } from './snapshot/manifest.js';
import type { ProgressListener } from './snapshot/progress.js';
import { moduleFailure, sharedScope, writeSnapshot } from './snapshot/writer.js';

/** What a restore did. */
export interface RestoreReport {
  readonly snapshotId: string;
  readonly tenantId: string;
  /** `transaction`: every module in one transaction; `safety-snapshot`: a safety snapshot was taken first. */
  readonly mode: 'transaction' | 'safety-snapshot';
  /** The safety snapshot's id (mode `safety-snapshot`). */
  readonly safetySnapshotId?: string;
  /** Records imported per module, in import order. */
  readonly modules: ReadonlyArray<{
    readonly name: string;
    readonly records: number;
    readonly upgradedFrom?: number;
  }>;
}

export interface RestoreInput {
  readonly tenantId: string;
  readonly snapshotId: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

/** Registered modules for a snapshot's modules, checking versions (before anything changes). */
export function modulesFor(rt: VaultRuntime, manifest: SnapshotManifest): VaultModule[] {
  return manifest.modules.map((entry) => {
    const module = rt.registry.get(entry.name);
    if (!module) {
      throw new VaultError(
        'VAULT_MODULE_NOT_FOUND',
        `The snapshot holds module ${entry.name}, which is not registered`,
        {
          details: { module: entry.name },
        },
      );
    }
    if (entry.schemaVersion > module.schemaVersion) {
      throw new VaultError(
        'VAULT_SCHEMA_TOO_NEW',
        `The snapshot's ${entry.name} data is schema version ${entry.schemaVersion}, newer than this code's ${module.schemaVersion}`,
        {
          details: {
            module: entry.name,
            snapshotVersion: entry.schemaVersion,
            codeVersion: module.schemaVersion,
          },
        },
      );
    }
    for (let v = entry.schemaVersion; v < module.schemaVersion; v++) {
      if (typeof module.upgrades?.[v] !== 'function') {
        throw new VaultError(
          'VAULT_UPGRADE_MISSING',
          `Module ${entry.name} has no upgrade from schema version ${v}`,
          {
            details: { module: entry.name, fromVersion: v },
          },
        );
      }
    }
    return module;
  });
}

/** Lets each module refuse the snapshot's layout (e.g. a changed table) before anything is deleted. */
async function checkLayouts(
  opened: OpenedSnapshot,
  modules: readonly VaultModule[],
  signal?: AbortSignal,
): Promise<void> {
  const { tenantId } = opened.manifest;
  for (const module of modules) {
    if (typeof module.checkLayout !== 'function') continue;
    const layout = opened.manifest.modules.find((m) => m.name === module.name)?.layout;
    try {
      await module.checkLayout({ tenantId, ...(layout ? { layout } : {}), ...(signal ? { signal } : {}) });
    } catch (error) {
      throw moduleFailure(error, module.name, 'check');
    }
  }
}

async function cleanAll(
  modules: readonly VaultModule[],
  tenantId: string,
  transaction: unknown,
  signal?: AbortSignal,
): Promise<void> {
  for (const module of [...modules].reverse()) {
    try {
      await module.clean({ tenantId, transaction, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw moduleFailure(error, module.name, 'clean');
    }
  }
}

/** Imports a (verified) snapshot's modules in stream (= dependency) order, upgrading old records. */
async function importAll(
  rt: VaultRuntime,
  opened: OpenedSnapshot,
  modules: readonly VaultModule[],
  transaction: unknown,
  options: { signal?: AbortSignal; onProgress?: ProgressListener; step: string },
): Promise<RestoreReport['modules']> {
  const { tenantId } = opened.manifest;
  const events = readSnapshot(rt, opened, { ...options, operation: 'restore' })[Symbol.asyncIterator]();
  const out: Array<{ name: string; records: number; upgradedFrom?: number }> = [];
  try {
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      const head = next.value;
      if (head.kind !== 'module')
        throw new VaultError('VAULT_SNAPSHOT_CORRUPT', 'Snapshot failed verification: bad frame order');
      const module = modules.find((m) => m.name === head.name) as VaultModule;
      const from = head.schemaVersion;
      let ended = false;
      let records = 0;
      const upgrading = from < module.schemaVersion;
      const stream = async function* (): AsyncGenerator<Uint8Array> {
        while (!ended) {
          const n = await events.next();
          if (n.done)
            throw new VaultError('VAULT_SNAPSHOT_CORRUPT', 'Snapshot failed verification: module not ended');
          if (n.value.kind === 'end') {
            ended = true;
            return;
          }
          if (n.value.kind !== 'records') {
            throw new VaultError('VAULT_SNAPSHOT_CORRUPT', 'Snapshot failed verification: bad frame order');
          }
          for (const record of n.value.data) {
            let data: Uint8Array = record;
            if (upgrading) {
              for (let v = from; v < module.schemaVersion; v++) {
                const upgrade = module.upgrades?.[v] as VaultRecordUpgrade; // checked by modulesFor
                data = await upgrade(data);
              }
            }
            records++;
            yield data;
          }
        }
      };
      const layout = opened.manifest.modules.find((m) => m.name === module.name)?.layout;
      try {
        await module.import(
          {
            tenantId,
            transaction,
            ...(layout ? { layout } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          },
          stream(),
        );
        // A module that stopped early still has its remaining records read, so the whole stream is checked.
        for await (const _ of stream()) {
          // draining
        }
      } catch (error) {
        throw moduleFailure(error, module.name, 'import');
      }
      out.push({
        name: module.name,
        records,
        ...(from < module.schemaVersion ? { upgradedFrom: from } : {}),
      });
    }
  } finally {
    await events.return?.(undefined);
  }
  return out;
}

/**
 * Restores a snapshot into the tenant (V2, V3): authenticates and reads the whole snapshot first,
 * then, in maintenance mode, cleans in reverse dependency order and imports in dependency order —
 * in one transaction when every module shares one scope, else after a safety snapshot that is
 * restored automatically if anything fails. Maintenance mode is switched off afterwards, also on
 * failure. Every step goes to the audit port.
 */
export async function restoreSnapshot(rt: VaultRuntime, input: RestoreInput): Promise<RestoreReport> {
  const { tenantId, snapshotId, signal, onProgress } = input;
  const actor = currentActor();
  const audit = (
    action: string,
    outcome: AuditPortEvent['outcome'],
    metadata: Record<string, unknown> = {},
  ): Promise<void> =>
    rt.audit.record({
      tenantId,
      actor,
      action,
      outcome,
      targets: [{ type: 'vault.snapshot', id: snapshotId }],
      occurredAt: rt.clock.now(),
      metadata,
    });
  const withProgress = { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) };

  await audit('vault.restore.started', 'success');
  let opened: OpenedSnapshot;
  let modules: VaultModule[];
  try {
    opened = await openSnapshot(rt, tenantId, snapshotId);
    modules = modulesFor(rt, opened.manifest);
    await verifyData(rt, opened, { operation: 'restore', step: 'verify', ...withProgress });
    await checkLayouts(opened, modules, signal);
  } catch (error) {
    await audit('vault.restore.refused', 'failure', {
      code: error instanceof TenantryError ? error.code : 'UNEXPECTED',
    });
    throw error;
  }
  await audit('vault.restore.verified', 'success', { modules: modules.map((m) => m.name) });

  if (rt.maintenance) {
    await rt.maintenance.set(tenantId, true);
    await audit('vault.maintenance.entered', 'success');
  }
  let outcome: { ok: true; report: RestoreReport } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, report: await apply(rt, opened, modules, input, audit, actor.id) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (rt.maintenance) {
    try {
      await rt.maintenance.set(tenantId, false);
      await audit('vault.maintenance.exited', 'success');
    } catch (exitError) {
      // The restore's own failure wins; a failure to leave maintenance is thrown when it is the only one.
      rt.logger.error(
        { tenantId, code: exitError instanceof TenantryError ? exitError.code : 'UNEXPECTED' },
        'vault: leaving maintenance mode failed',
      );
      if (outcome.ok) throw exitError;
    }
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.report;
}

type Audit = (
  action: string,
  outcome: AuditPortEvent['outcome'],
  metadata?: Record<string, unknown>,
) => Promise<void>;

/** Clean and import, in one transaction or behind a safety snapshot (V3). */
async function apply(
  rt: VaultRuntime,
  opened: OpenedSnapshot,
  modules: VaultModule[],
  input: RestoreInput,
  audit: Audit,
  actorId: string,
): Promise<RestoreReport> {
  const { tenantId, snapshotId, signal, onProgress } = input;
  const withProgress = { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) };
  const scope = sharedScope(modules);
  if (scope) {
    let imported: RestoreReport['modules'] = [];
    try {
      await scope.run(tenantId, async (tx) => {
        await cleanAll(modules, tenantId, tx, signal);
        imported = await importAll(rt, opened, modules, tx, { ...withProgress, step: 'import' });
      });
    } catch (error) {
      const failure = restoreFailed(error);
      await audit('vault.restore.failed', 'failure', {
        mode: 'transaction',
        rolledBack: true,
        ...failure.details,
      });
      throw failure;
    }
    await audit('vault.restore.completed', 'success', {
      mode: 'transaction',
      modules: imported.map((m) => m.name),
    });
    return { snapshotId, tenantId, mode: 'transaction', modules: imported };
  }

  const safety = await writeSnapshot(rt, {
    tenantId,
    kind: 'safety',
    modules,
    createdBy: actorId,
    ...withProgress,
  });
  await audit('vault.restore.safety_snapshot', 'success', { safetySnapshotId: safety.snapshotId });
  try {
    await cleanAll(modules, tenantId, undefined, signal);
    const imported = await importAll(rt, opened, modules, undefined, { ...withProgress, step: 'import' });
    await audit('vault.restore.completed', 'success', {
      mode: 'safety-snapshot',
      safetySnapshotId: safety.snapshotId,
    });
    return {
      snapshotId,
      tenantId,
      mode: 'safety-snapshot',
      safetySnapshotId: safety.snapshotId,
      modules: imported,
    };
  } catch (error) {
    const failure = restoreFailed(error);
    try {
      const safe = await openSnapshot(rt, tenantId, safety.snapshotId);
      await cleanAll(modules, tenantId, undefined);
      await importAll(rt, safe, modules, undefined, {
        ...(onProgress ? { onProgress } : {}),
        step: 'rollback',
      });
    } catch (rollbackError) {
      await audit('vault.restore.rollback_failed', 'failure', {
        safetySnapshotId: safety.snapshotId,
        ...failure.details,
      });
      throw new VaultError(
        'VAULT_RESTORE_ROLLBACK_FAILED',
        'The restore failed and restoring the safety snapshot failed too',
        {
          cause: rollbackError,
          details: { ...failure.details, safetySnapshotId: safety.snapshotId },
        },
      );
    }
    await audit('vault.restore.failed', 'failure', {
      mode: 'safety-snapshot',
      rolledBack: true,
      safetySnapshotId: safety.snapshotId,
      ...failure.details,
    });
    throw failure;
  }
}

function restoreFailed(error: unknown): VaultError {
  const details: Record<string, unknown> =
    error instanceof TenantryError
      ? { causeCode: error.code, ...pick(error.details, ['module', 'step']) }
      : {};
  return new VaultError('VAULT_RESTORE_FAILED', 'The restore failed; the tenant was left as it was before', {
    cause: error,
    details,
  });
}

function pick(
  details: Readonly<Record<string, unknown>> | undefined,
  keys: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (details && details[k] !== undefined) out[k] = details[k];
  return out;
}
