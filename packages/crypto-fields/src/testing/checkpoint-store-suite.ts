/**
 * Conformance suite of the {@link CheckpointStore} port (rotation job checkpoints).
 * @example
 * import { describe, expect, it } from 'vitest';
 * checkpointStoreConformance(() => ({ checkpoints: myStore }), { describe, it, expect });
 */
import { randomBytes } from 'node:crypto';
import type { SuiteApi } from '@tenantry/core/testing';
import type { CheckpointStore, RotationCheckpoint } from '../rotation.js';

const uid = (p: string) => `${p}_${randomBytes(6).toString('hex')}`;

/**
 * What the checkpoint store suite needs. Harness contract: called once per test, inside the test; a
 * fresh or a shared store (tests use random job ids).
 */
export interface CheckpointStoreHarness {
  checkpoints: CheckpointStore;
}

/** The {@link CheckpointStore} contract: save/load round-trips, overwrite, clear, jobs independent. */
export function checkpointStoreConformance(harness: () => CheckpointStoreHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;
  describe('CheckpointStore conformance', () => {
    it('saves, overwrites, loads and clears checkpoints per job', async () => {
      const { checkpoints } = harness();
      const job = uid('job');
      expect(await checkpoints.load(job)).toBeNull();
      const cp: RotationCheckpoint = {
        pass: 1,
        cursor: '42',
        stats: { scanned: 10, unchanged: 1, reencrypted: 7, migrated: 2, conflicts: 0, failed: 0 },
        failedIds: [],
        updatedAt: new Date().toISOString(),
      };
      await checkpoints.save(job, cp);
      expect(await checkpoints.load(job)).toEqual(cp);
      await checkpoints.save(job, { ...cp, cursor: '99', pass: 2 });
      expect(await checkpoints.load(job)).toMatchObject({ cursor: '99', pass: 2 });
      expect(await checkpoints.load(uid('job'))).toBeNull();
      await checkpoints.clear(job);
      expect(await checkpoints.load(job)).toBeNull();
    });
  });
}
