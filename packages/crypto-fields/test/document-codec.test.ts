import { isTenantryError } from '@tenantry/core';
import { createMongoDocumentCodec } from '@tenantry/crypto-fields/mongo';
import { isSecret, secret, secretPaths } from '@tenantry/crypto-fields/zod';
import { ObjectId } from 'mongodb';
import { describe, expect } from 'vitest';
import { z } from 'zod';
import { makeFields, itAsSystem as it } from './helpers.js';

const Settings = z.object({
  name: z.string(),
  smtp: z.object({ host: z.string(), password: secret(z.string()) }).optional(),
  apiKeys: z.array(secret(z.string())),
  webhooks: z.array(z.object({ url: z.string(), secret: secret(z.string()).nullable() })),
  whatsapp: secret(z.object({ token: z.string(), phoneId: z.string() })).optional(),
});

const doc = {
  name: 'Acme',
  smtp: { host: 'smtp.example.com', password: 'smtp-pass' },
  apiKeys: ['apikey-one-secret', 'apikey-two-secret'],
  webhooks: [
    { url: 'https://a', secret: 'webhook-secret-a' },
    { url: 'https://b', secret: null },
  ],
  whatsapp: { token: 'wa-token', phoneId: '123' },
};

describe('object sealing by declared paths (zod helper)', () => {
  it('derives secret paths from a zod schema through objects, arrays and wrappers', () => {
    expect(secretPaths(Settings)).toEqual(['smtp.password', 'apiKeys[]', 'webhooks[].secret', 'whatsapp']);
    expect(isSecret(Settings.shape.whatsapp)).toBe(true);
    expect(isSecret(Settings.shape.name)).toBe(false);
  });

  it('seals exactly the declared paths, leaves the rest, and opens back to the same document', async () => {
    const { fields } = makeFields();
    const sealed = await fields.sealObject(doc, secretPaths(Settings), {
      tenantId: 'acme',
      collection: 'settings',
    });
    const text = JSON.stringify(sealed);
    for (const s of ['smtp-pass', 'apikey-one', 'apikey-two', 'webhook-secret-a', 'wa-token'])
      expect(text).not.toContain(s);
    expect(sealed).toMatchObject({
      name: 'Acme',
      smtp: { host: 'smtp.example.com' },
      webhooks: [{ url: 'https://a' }, { secret: null }],
    });
    expect(doc.smtp.password).toBe('smtp-pass'); // input not mutated
    const opened = await fields.openObject(sealed, secretPaths(Settings), {
      tenantId: 'acme',
      collection: 'settings',
    });
    expect(Settings.parse(opened)).toEqual(doc);
  });

  it('a value moved to another path of the same document fails to open', async () => {
    const { fields } = makeFields();
    const sealed = (await fields.sealObject(doc, secretPaths(Settings), {
      tenantId: 'acme',
      collection: 'settings',
    })) as typeof doc;
    const swapped = { ...sealed, smtp: { ...sealed.smtp, password: sealed.webhooks[0]!.secret } };
    const err = await fields
      .openObject(swapped, secretPaths(Settings), { tenantId: 'acme', collection: 'settings' })
      .catch((e) => e);
    expect(isTenantryError(err, 'CRYPTO_DECRYPT_FAILED')).toBe(true);
  });
});

describe('MongoDB document codec (driver types, no server needed)', () => {
  it('encrypts and decrypts documents with ObjectId row binding', async () => {
    const { fields } = makeFields();
    const codec = createMongoDocumentCodec(fields, {
      collection: 'settings',
      paths: secretPaths(Settings),
      bindRowId: true,
      tenantField: 'tenantId',
    });
    const _id = new ObjectId();
    const enc = await codec.encryptDocument({ _id, tenantId: 'acme', ...doc });
    expect(enc._id).toBe(_id);
    expect(JSON.stringify(enc)).not.toContain('smtp-pass');
    expect(await codec.decryptDocument({ ...enc })).toEqual({ _id, tenantId: 'acme', ...doc });
    const moved = { ...enc, _id: new ObjectId() };
    expect(await codec.decryptDocument(moved).catch((e) => e.code)).toBe('CRYPTO_DECRYPT_FAILED');
  });
});
