import { createPostgresRowCodec } from '@tenantry/crypto-fields/postgres';
import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { describe, expect } from 'vitest';
import { itAsSystem as it, makeFields } from './helpers.js';

const db = useTestDatabase();

describe.skipIf(!hasBackend('postgres'))(
  `pg row codec with blind index lookups${skipLabel('postgres')}`,
  () => {
    it('stores encrypted columns, finds rows by blind index, decrypts them', async () => {
      const pool = new pg.Pool({ connectionString: db.url(), max: 2 });
      try {
        await pool.query(
          'CREATE TABLE users (id uuid PRIMARY KEY, tenant_id text NOT NULL, email text, email_idx text, tax_id text)',
        );
        await pool.query('CREATE INDEX ON users (tenant_id, email_idx)');
        const { fields } = makeFields();
        const users = createPostgresRowCodec(fields, {
          collection: 'users',
          columns: ['email', 'tax_id'],
          bindRowId: true,
          blindIndexes: { email_idx: { source: 'email', bytes: 16 } },
        });
        const people = [
          { id: crypto.randomUUID(), tenant_id: 'acme', email: 'Ann@Example.com', tax_id: '12-345' },
          { id: crypto.randomUUID(), tenant_id: 'acme', email: 'bob@example.com', tax_id: null },
          { id: crypto.randomUUID(), tenant_id: 'globex', email: 'ann@example.com', tax_id: '99' },
        ];
        for (const p of people) {
          const row = await users.encryptRow(p, { tenantId: p.tenant_id });
          expect(String(row.email)).not.toContain('@');
          await pool.query('INSERT INTO users VALUES ($1, $2, $3, $4, $5)', [
            row.id,
            row.tenant_id,
            row.email,
            row.email_idx,
            row.tax_id,
          ]);
        }
        // Look up by a differently-cased input: normalisation makes it match; other tenants do not.
        const idx = await users.blindIndex('email_idx', '  ann@EXAMPLE.com', { tenantId: 'acme' });
        const { rows } = await pool.query('SELECT * FROM users WHERE tenant_id = $1 AND email_idx = $2', [
          'acme',
          idx,
        ]);
        expect(rows.length).toBe(1);
        const ann = await users.decryptRow<(typeof people)[number]>(rows[0], { tenantId: 'acme' });
        expect(ann).toMatchObject({ email: 'Ann@Example.com', tax_id: '12-345' });
        const globexIdx = await users.blindIndex('email_idx', 'ann@example.com', { tenantId: 'globex' });
        expect(globexIdx).not.toBe(idx); // per-tenant keys: equal emails do not link across tenants

        // A loaded row saved again without opening it keeps its blind index (not the ciphertext's).
        const again = await users.encryptRow(rows[0], { tenantId: 'acme' });
        expect(again.email).toBe(rows[0].email);
        expect(again.email_idx).toBe(idx);

        // An id given in upper case is bound as the uuid column returns it (lower case).
        const upper = crypto.randomUUID().toUpperCase();
        const carol = await users.encryptRow(
          { id: upper, tenant_id: 'acme', email: 'carol@example.com', tax_id: '7' },
          { tenantId: 'acme' },
        );
        await pool.query('INSERT INTO users VALUES ($1, $2, $3, $4, $5)', [
          carol.id,
          carol.tenant_id,
          carol.email,
          carol.email_idx,
          carol.tax_id,
        ]);
        const stored = (await pool.query('SELECT * FROM users WHERE id = $1', [upper])).rows[0];
        expect(stored.id).toBe(upper.toLowerCase());
        expect(await users.decryptRow(stored, { tenantId: 'acme' })).toMatchObject({
          email: 'carol@example.com',
          tax_id: '7',
        });
      } finally {
        await pool.end();
      }
    });
  },
);
