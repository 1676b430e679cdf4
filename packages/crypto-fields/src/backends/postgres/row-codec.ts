import { ValidationError, parseInput } from '@tenantry/core';
import { z } from 'zod';
import type { BlindIndexOptions } from '../../blind-index.js';
import { CryptoFieldsError } from '../../errors.js';
import type { FieldCrypto } from '../../field-crypto.js';
import { isCiphertext } from '../../format.js';

/** A blind index column computed from an encrypted column's plaintext. */
export interface BlindIndexColumn extends BlindIndexOptions {
  /** The encrypted column whose plaintext is indexed. */
  source: string;
}

/** Options of {@link createPostgresRowCodec}. */
export interface PostgresRowCodecOptions {
  /** Collection name bound into the ciphertexts (usually the table name). */
  collection: string;
  /** Encrypted columns (field name = column name). */
  columns: readonly string[];
  /**
   * Primary key column, used as row id when `bindRowId` (a UUID in lower case, as a `uuid` column
   * returns it; other ids as their text). @default 'id'
   */
  idColumn?: string;
  /** Bind each value to its row id (the id must be known before the insert, e.g. a UUIDv7). @default false */
  bindRowId?: boolean;
  /** Blind index columns to fill on encrypt, by column name. */
  blindIndexes?: Readonly<Record<string, BlindIndexColumn>>;
}

/** Encrypts and decrypts `pg` rows by a column declaration. */
export interface PostgresRowCodec {
  /** A copy of `row` with the declared columns sealed and blind index columns filled. */
  encryptRow<R extends Record<string, unknown>>(
    row: R,
    tenant?: { tenantId?: string },
  ): Promise<Record<string, unknown>>;
  /** A copy of `row` with the declared columns opened. */
  decryptRow<R = Record<string, unknown>>(
    row: Record<string, unknown>,
    tenant?: { tenantId?: string },
  ): Promise<R>;
  /** The blind index of a value for a blind index column, for `WHERE email_idx = $1`. */
  blindIndex(indexColumn: string, value: string, tenant?: { tenantId?: string }): Promise<string>;
}

const RowCodecOptionsSchema = z.object({
  collection: z.string().min(1).max(1000),
  columns: z.array(z.string().min(1).max(1000)).max(1000),
  idColumn: z.string().min(1).max(1000).optional(),
  bindRowId: z.boolean().optional(),
  blindIndexes: z.record(z.string(), z.object({ source: z.string().min(1) }).passthrough()).optional(),
});
const RowSchema = z.custom<Record<string, unknown>>(
  (r) => typeof r === 'object' && r !== null,
  'must be an object',
);
const TenantArgSchema = z.object({ tenantId: z.string().optional() });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A codec for `pg` rows: declare the secret columns once, then `encryptRow` before INSERT/UPDATE and
 * `decryptRow` after SELECT. Rotation of the same table: `PostgresRotationTarget` with the same columns.
 * @example
 * const users = createPostgresRowCodec(fields, { collection: 'users', columns: ['email', 'tax_id'],
 *   blindIndexes: { email_idx: { source: 'email' } } });
 * const row = await users.encryptRow({ id, tenant_id: 'acme', email: 'ann@example.com' }, { tenantId: 'acme' });
 */
export function createPostgresRowCodec(
  fields: FieldCrypto,
  options: PostgresRowCodecOptions,
): PostgresRowCodec {
  parseInput(RowCodecOptionsSchema, options, 'postgres row codec options');
  const idColumn = options.idColumn ?? 'id';
  const rowIdOf = (row: Record<string, unknown>): string | undefined => {
    parseInput(RowSchema, row, 'row');
    if (!options.bindRowId) return undefined;
    const v = row[idColumn];
    if (v === undefined || v === null || v === '') {
      throw new CryptoFieldsError(
        'CRYPTO_UNSEALABLE_VALUE',
        `Row id column ${idColumn} is required when bindRowId is on`,
        {
          details: { collection: options.collection },
        },
      );
    }
    // As PostgreSQL gives the id back: a uuid column answers in lower case, so an id passed in upper
    // case would bind a ciphertext no row read from the table could open.
    const id = String(v);
    return UUID.test(id) ? id.toLowerCase() : id;
  };
  const indexes = Object.entries(options.blindIndexes ?? {});
  const indexFor = (col: string, value: string, tenantId?: string) => {
    const def = options.blindIndexes?.[col];
    if (typeof col !== 'string' || !def || !Object.hasOwn(options.blindIndexes ?? {}, col)) {
      throw new ValidationError('blind index column', [
        { path: [], message: 'is not a declared blind index column' },
      ]);
    }
    const { source, ...opts } = def;
    return fields.blindIndex(value, { tenantId, collection: options.collection, field: source }, opts);
  };
  return {
    async encryptRow(row, tenant = {}) {
      parseInput(RowSchema, row, 'row');
      parseInput(TenantArgSchema, tenant, 'tenant');
      const out: Record<string, unknown> = { ...row };
      for (const [col, def] of indexes) {
        const v = row[def.source];
        // A source still sealed (a loaded row saved again without opening it) keeps its stored index:
        // indexing the ciphertext's text would drop the row out of equality search.
        if (typeof v === 'string' && !isCiphertext(v)) out[col] = await indexFor(col, v, tenant.tenantId);
      }
      return fields.sealObject(out, options.columns, {
        tenantId: tenant.tenantId,
        collection: options.collection,
        rowId: rowIdOf(row),
      });
    },
    async decryptRow(row, tenant = {}) {
      parseInput(TenantArgSchema, tenant, 'tenant');
      return fields.openObject(row, options.columns, {
        tenantId: tenant.tenantId,
        collection: options.collection,
        rowId: rowIdOf(row),
      });
    },
    blindIndex: (col, value, tenant = {}) => indexFor(col, value, tenant.tenantId),
  };
}
