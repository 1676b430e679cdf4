import { ValidationError, parseInput } from '@tenantry/core';
import type { Db } from 'mongodb';
import { z } from 'zod';
import { mongoStoreError } from './errors.js';

/** Default collection of the wrapped data keys. */
export const DEFAULT_DATA_KEYS_COLLECTION = 'tenantry_crypto_data_keys';
/** Default collection of the rotation checkpoints. */
export const DEFAULT_CHECKPOINTS_COLLECTION = 'tenantry_crypto_rotation_checkpoints';

/**
 * Checks the options of the MongoDB stores by shape before anything is read from them: a `Db` (an
 * object with `collection()`) and an optional collection name.
 * @throws ValidationError `VALIDATION_FAILED`
 * @internal
 */
export function checkMongoStoreOptions(options: unknown, what: string): void {
  parseInput(MongoStoreOptionsSchema, options, what);
}

const MongoStoreOptionsSchema = z.object({
  db: z.custom<Db>(
    (d) => typeof (d as { collection?: unknown } | null)?.collection === 'function',
    'must be a Db from the official driver',
  ),
  collection: z.string().min(1).max(120).optional(),
});

/** Options of {@link ensureCryptoFieldsIndexes}. */
export const CryptoFieldsIndexesOptionsSchema = z
  .object({
    /** The data keys collection, if not the default. @default 'tenantry_crypto_data_keys' */
    dataKeysCollection: z.string().min(1).max(120).optional(),
  })
  .strict();

/**
 * Create the indexes the MongoDB key store relies on (idempotent): a unique `{ tenantId, keyId }` and
 * a partial unique `{ tenantId, purpose }` where `primary: true` (one primary per tenant and purpose).
 * Checkpoints are keyed by `_id` and need none. Run it at deploy time, like a migration.
 * @throws CryptoFieldsError `CRYPTO_STORE_UNAVAILABLE` | `CRYPTO_KEY_STORE_FAILED`
 * @example await ensureCryptoFieldsIndexes(client.db('app'));
 */
export async function ensureCryptoFieldsIndexes(
  db: Db,
  options: z.input<typeof CryptoFieldsIndexesOptionsSchema> = {},
): Promise<void> {
  const o = parseInput(CryptoFieldsIndexesOptionsSchema, options, 'crypto-fields index options');
  if (typeof (db as { collection?: unknown } | null)?.collection !== 'function') {
    throw new ValidationError('mongo database', [
      { path: [], message: 'must be a Db from the official driver' },
    ]);
  }
  const c = db.collection(o.dataKeysCollection ?? DEFAULT_DATA_KEYS_COLLECTION);
  try {
    await c.createIndex({ tenantId: 1, keyId: 1 }, { unique: true });
    await c.createIndex(
      { tenantId: 1, purpose: 1 },
      { unique: true, partialFilterExpression: { primary: true }, name: 'one_primary' },
    );
  } catch (error) {
    throw mongoStoreError(error, 'ensureIndexes');
  }
}
