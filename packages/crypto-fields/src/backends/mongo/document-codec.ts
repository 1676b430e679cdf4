import { parseInput } from '@tenantry/core';
import { z } from 'zod';
import { CryptoFieldsError } from '../../errors.js';
import type { FieldCrypto } from '../../field-crypto.js';
import { type FieldPath, parseFieldPath } from '../../paths.js';

/** Options of {@link createMongoDocumentCodec}. */
export interface MongoDocumentCodecOptions {
  /** Collection name bound into the ciphertexts. */
  collection: string;
  /** Secret paths: `apiKey`, `smtp.password`, `webhooks[].secret`, `tokens[]`. */
  paths: readonly string[];
  /** Bind each value to the document's `_id` (set `_id` before inserting). @default false */
  bindRowId?: boolean;
  /** Document field holding the tenant id, used when no tenant is passed or in context. */
  tenantField?: string;
}

/** Encrypts and decrypts documents for the official MongoDB driver by a field declaration. */
export interface MongoDocumentCodec {
  /** A copy of `doc` with the declared paths sealed, ready for `insertOne`/`replaceOne`. */
  encryptDocument<D extends object>(doc: D, tenant?: { tenantId?: string }): Promise<Record<string, unknown>>;
  /** A copy of a document read from the driver with the declared paths opened. */
  decryptDocument<D = Record<string, unknown>>(doc: object, tenant?: { tenantId?: string }): Promise<D>;
}

const DocumentCodecOptionsSchema = z.object({
  collection: z.string().min(1).max(1000),
  paths: z.array(z.string()).max(10_000),
  bindRowId: z.boolean().optional(),
  tenantField: z.string().min(1).max(1000).optional(),
});
const DocumentArgsSchema = z.object({
  doc: z.custom<object>((d) => typeof d === 'object' && d !== null, 'must be an object'),
  tenant: z.object({ tenantId: z.string().optional() }),
});

const idText = (id: unknown): string | undefined => {
  if (id === undefined || id === null) return undefined;
  if (typeof id === 'object' && typeof (id as { toHexString?: unknown }).toHexString === 'function') {
    return (id as { toHexString(): string }).toHexString();
  }
  return String(id);
};

/**
 * A document codec for the MongoDB driver: `encryptDocument` before writing, `decryptDocument` after
 * reading. Values are sealed per declared path (the path is the bound field name). Filter on secret
 * fields through a blind index field (`fields.blindIndex`), never on the ciphertext.
 * @example
 * const codec = createMongoDocumentCodec(fields, { collection: 'settings', paths: ['smtp.password', 'webhooks[].secret'] });
 * await col.insertOne(await codec.encryptDocument(doc, { tenantId: 'acme' }));
 */
export function createMongoDocumentCodec(
  fields: FieldCrypto,
  options: MongoDocumentCodecOptions,
): MongoDocumentCodec {
  parseInput(DocumentCodecOptionsSchema, options, 'mongo document codec options');
  const paths: FieldPath[] = options.paths.map(parseFieldPath);
  const context = (doc: object, tenant: { tenantId?: string }) => {
    parseInput(DocumentArgsSchema, { doc, tenant }, 'document');
    const d = doc as Record<string, unknown>;
    const fromDoc = options.tenantField ? d[options.tenantField] : undefined;
    const tenantId = tenant.tenantId ?? (typeof fromDoc === 'string' ? fromDoc : undefined);
    const rowId = options.bindRowId ? idText(d._id) : undefined;
    if (options.bindRowId && rowId === undefined) {
      throw new CryptoFieldsError(
        'CRYPTO_UNSEALABLE_VALUE',
        'The document needs an _id when bindRowId is on',
        {
          details: { collection: options.collection },
        },
      );
    }
    return { tenantId, collection: options.collection, rowId };
  };
  return {
    encryptDocument: (doc, tenant = {}) => fields.sealObject(doc, paths, context(doc, tenant)),
    decryptDocument: (doc, tenant = {}) => fields.openObject(doc, paths, context(doc, tenant)),
  };
}
