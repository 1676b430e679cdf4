import { runMigrations } from '@tenantry/core/postgres';
import { isTenantryError } from '@tenantry/core';
import {
  type FieldCrypto,
  createFieldCrypto,
  describeValue,
  localKeyProvider,
  runRotation,
} from '@tenantry/crypto-fields';
import {
  PostgresCheckpointStore,
  PostgresDataKeyStore,
  PostgresRotationTarget,
  cryptoFieldsMigrations,
} from '@tenantry/crypto-fields/postgres';
import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { keyringOf } from '../src/tenant-keys.js';
import { KEK1, itAsSystem as it } from './helpers.js';

const ROWS = 100_000;
const TENANTS = Array.from({ length: 10 }, (_, i) => `tenant-${i}`);
const tenantOf = (id: number) => TENANTS[id % TENANTS.length]!;
const original = (id: number) => `orig-api-${id}`;
const hook = (id: number) => `orig-hook-${id}`;
const isLegacyPlain = (id: number) => id % 50 === 7; // 2% of rows hold plaintext from before encryption
const hasHook = (id: number) => id % 3 === 0;

const db = useTestDatabase();

describe.skipIf(!hasBackend('postgres'))(
  `rotation over ${ROWS.toLocaleString('en-US')} PostgreSQL rows with concurrent writers${skipLabel('postgres')}`,
  () => {
    let pool: pg.Pool;
    let store: PostgresDataKeyStore;
    const provider = localKeyProvider({ keys: { kek1: KEK1 }, primary: 'kek1' });
    const newFields = (): FieldCrypto => createFieldCrypto({ provider, store, acceptPlaintext: true });

    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: db.url(), max: 8 });
      store = new PostgresDataKeyStore({ pool });
      await runMigrations(pool, cryptoFieldsMigrations);
      await pool.query(
        'CREATE TABLE secrets (id bigint PRIMARY KEY, tenant_id text NOT NULL, api_key text, webhook_secret text)',
      );
    });
    afterAll(async () => {
      await pool?.end();
    });

    it('re-encrypts every value to the new primary key, resumes after a crash, and never overwrites a concurrent write', async () => {
      // 1. Seed: values sealed under each tenant's first key; 2% legacy plaintext.
      const seeder = newFields();
      for (let start = 1; start <= ROWS; start += 5000) {
        const ids: number[] = [];
        const tenants: string[] = [];
        const apis: (string | null)[] = [];
        const hooks: (string | null)[] = [];
        for (let id = start; id < start + 5000 && id <= ROWS; id++) {
          const ctxBase = { tenantId: tenantOf(id), collection: 'secrets' };
          ids.push(id);
          tenants.push(tenantOf(id));
          apis.push(
            isLegacyPlain(id)
              ? original(id)
              : await seeder.seal(original(id), { ...ctxBase, field: 'api_key' }),
          );
          hooks.push(
            hasHook(id) ? await seeder.seal(hook(id), { ...ctxBase, field: 'webhook_secret' }) : null,
          );
        }
        await pool.query(
          'INSERT INTO secrets SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])',
          [ids, tenants, apis, hooks],
        );
      }
      const oldKeys = new Map<string, string>();
      for (const t of TENANTS) oldKeys.set(t, (await keyringOf(seeder.keys).primary(t)).keyId);

      // 2. Rotate every tenant's data key. Writers (fresh instances, as other processes) encrypt with the new one.
      const newKeys = new Map<string, string>();
      for (const t of TENANTS) newKeys.set(t, await seeder.keys.rotate(t));

      const target = new PostgresRotationTarget({
        pool,
        table: 'secrets',
        columns: ['api_key', 'webhook_secret'],
      });
      const checkpoints = new PostgresCheckpointStore({ pool });

      // 3. Concurrent writers and readers while the job runs. Rows are partitioned among writers, so each
      //    row's last written value is well defined. Half the writes aim just ahead of the job's cursor.
      let cursor = 0;
      let stop = false;
      const lastWritten = new Map<number, string>();
      let writes = 0;
      let reads = 0;
      const readFailures: string[] = [];
      const WRITERS = 4;
      const writer = async (w: number) => {
        const fields = newFields();
        let n = 0;
        while (!stop) {
          const near = n % 2 === 0;
          const base = near
            ? cursor + 1 + Math.floor(Math.random() * 1500)
            : 1 + Math.floor(Math.random() * ROWS);
          let id = base - (base % WRITERS) + w;
          if (id < 1) id += WRITERS;
          while (id > ROWS) id -= WRITERS;
          const value = `w${w}-${id}-${n++}`;
          const sealed = await fields.seal(value, {
            tenantId: tenantOf(id),
            collection: 'secrets',
            field: 'api_key',
          });
          await pool.query('UPDATE secrets SET api_key = $1 WHERE id = $2', [sealed, id]);
          lastWritten.set(id, value);
          writes++;
        }
      };
      const reader = async () => {
        const fields = newFields();
        while (!stop) {
          const id = 1 + Math.floor(Math.random() * ROWS);
          const { rows } = await pool.query<{ api_key: string }>(
            'SELECT api_key FROM secrets WHERE id = $1',
            [id],
          );
          try {
            const v = await fields.open(rows[0]!.api_key, {
              tenantId: tenantOf(id),
              collection: 'secrets',
              field: 'api_key',
            });
            if (!v.startsWith('orig-api-') && !v.startsWith('w')) readFailures.push(`bad value at ${id}`);
          } catch (e) {
            readFailures.push(isTenantryError(e) ? e.code : String(e));
          }
          reads++;
        }
      };
      const background = [...Array.from({ length: WRITERS }, (_, w) => writer(w)), reader()];

      // 4. First run "crashes" (abort) after 25 batches; the second run, a fresh instance, resumes.
      const runJobs = async () => {
        const abort = new AbortController();
        let batches = 0;
        const first = await runRotation({
          fields: newFields(),
          target,
          checkpoints,
          jobId: 'rotate-secrets',
          batchSize: 1000,
          signal: abort.signal,
          onProgress: (cp) => {
            cursor = Number(cp.cursor);
            if (++batches === 25) abort.abort();
          },
        }).catch((e: unknown) => e);
        const saved = await checkpoints.load('rotate-secrets');
        const report = await runRotation({
          fields: newFields(),
          target,
          checkpoints,
          jobId: 'rotate-secrets',
          batchSize: 1000,
          onProgress: (cp) => {
            cursor = Number(cp.cursor);
          },
        });
        return { first, saved, report };
      };
      let result: Awaited<ReturnType<typeof runJobs>>;
      try {
        result = await runJobs();
      } finally {
        stop = true;
        await Promise.allSettled(background);
      }
      const { first, saved, report } = result;
      expect(isTenantryError(first, 'CRYPTO_ROTATION_ABORTED')).toBe(true);
      expect(saved?.cursor).toBe('25000');
      expect(saved?.stats.reencrypted).toBeGreaterThan(25_000);
      expect(report.resumedFrom).toBe('25000');
      expect(await checkpoints.load('rotate-secrets')).toBeNull();

      // 5. Verify every row: ciphertext under the tenant's new key, opens, and holds the last value written.
      const verifier = newFields();
      const { rows } = await pool.query<{
        id: string;
        tenant_id: string;
        api_key: string;
        webhook_secret: string | null;
      }>('SELECT id::text, tenant_id, api_key, webhook_secret FROM secrets ORDER BY id');
      expect(rows.length).toBe(ROWS);
      let checked = 0;
      const strict = createFieldCrypto({ provider, store });
      for (const r of rows) {
        const id = Number(r.id);
        const expectedKey = newKeys.get(r.tenant_id)!;
        for (const [field, value, expected] of [
          ['api_key', r.api_key, lastWritten.get(id) ?? original(id)],
          ['webhook_secret', r.webhook_secret, hasHook(id) ? hook(id) : null],
        ] as const) {
          if (expected === null) {
            expect(value).toBeNull();
            continue;
          }
          const d = describeValue(value!);
          if (d.kind !== 'ciphertext' || d.keyId !== expectedKey) {
            throw new Error(
              `row ${id} ${field} left behind: ${d.kind} ${d.kind === 'ciphertext' ? d.keyId : ''}`,
            );
          }
          const opened = await strict.open(value!, { tenantId: r.tenant_id, collection: 'secrets', field });
          if (opened !== expected)
            throw new Error(`row ${id} ${field}: lost value (have ${opened}, want ${expected})`);
          checked++;
        }
      }
      const expectedValues = ROWS + Math.floor(ROWS / 3);
      expect(checked).toBe(expectedValues);
      expect(readFailures).toEqual([]);
      expect(writes).toBeGreaterThan(100);
      // The census counts only new keys now.
      const newKeyIds = new Set(newKeys.values());
      for (const [kid, n] of Object.entries(report.remainingByKeyId)) {
        expect(newKeyIds.has(kid), `values still under ${kid}: ${n}`).toBe(true);
      }
      expect(Object.values(report.remainingByKeyId).reduce((a, b) => a + b, 0)).toBe(expectedValues);
      // Old keys can now be retired; values still open (they no longer need them).
      for (const [t, kid] of oldKeys) expect(await verifier.keys.retire(t, kid)).toBe(true);
      const legacy = Math.floor((ROWS - 7) / 50) + 1;
      console.log(
        `[rotation] rows=${ROWS} values=${expectedValues} legacyPlaintext=${legacy} writes=${writes} reads=${reads} ` +
          `report=${JSON.stringify({ ...report, remainingByKeyId: undefined, failedIds: undefined })}`,
      );
      expect(report.failed).toBe(0);
      expect(report.migrated).toBeGreaterThan(0);
      expect(report.conflicts + report.reencrypted + report.migrated + report.unchanged).toBe(report.scanned);
    }, 600_000);
  },
);
