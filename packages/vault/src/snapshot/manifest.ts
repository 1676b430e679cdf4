import { TenantIdSchema, canonicalJson } from '@tenantry/core';
import { z } from 'zod';
import { VaultError } from '../errors.js';
import { ModuleNameSchema } from '../module.js';
import { FORMAT_VERSION, macEquals, manifestMac } from './chunk-cipher.js';
import { CompressionSchema } from './compression.js';

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

/** One module's entry in a manifest. */
export const ManifestModuleSchema = z
  .object({
    name: ModuleNameSchema,
    schemaVersion: z.number().int().min(1),
    /** SHA-256 of the writer's module declaration. */
    declaration: Sha256Schema,
    records: z.number().int().min(0),
    /** SHA-256 over the module's records (each as u32 length + bytes). */
    sha256: Sha256Schema,
    /** The module's layout (`VaultModuleContext.setLayout`), e.g. a table's columns. */
    layout: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** A snapshot id: a UUID (v7 when the vault makes it). */
export const SnapshotIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lower-case UUID');

/** The manifest of a snapshot (format version 1); `mac` authenticates everything else. */
export const SnapshotManifestSchema = z
  .object({
    format: z.literal('tenantry-vault'),
    formatVersion: z.number().int(),
    snapshotId: SnapshotIdSchema,
    tenantId: TenantIdSchema,
    kind: z.enum(['snapshot', 'safety']),
    createdAt: z.iso.datetime(),
    createdBy: z.string().max(256),
    compression: CompressionSchema,
    cipher: z.literal('aes-256-gcm'),
    /** crypto-fields key id of the tenant data key that wraps the snapshot key. */
    keyId: z.string().min(1).max(128),
    /** The snapshot's master key, sealed by crypto-fields for (tenant, `tenantry_vault`, `snapshot_key`, snapshot id). */
    wrappedKey: z.string().min(1).max(4096),
    modules: z.array(ManifestModuleSchema).max(10_000),
    data: z
      .object({
        key: z.string().min(1).max(1024),
        size: z.number().int().min(0),
        sha256: Sha256Schema,
        chunks: z.number().int().min(1),
      })
      .strict(),
    mac: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type SnapshotManifest = z.infer<typeof SnapshotManifestSchema>;

/** Signs a manifest body (everything but `mac`). */
export function signManifest(body: Omit<SnapshotManifest, 'mac'>, macKey: Buffer): SnapshotManifest {
  return { ...body, mac: manifestMac(macKey, canonicalJson(body)) };
}

const corrupt = (why: string, cause?: unknown): VaultError =>
  new VaultError(
    'VAULT_SNAPSHOT_CORRUPT',
    `Snapshot manifest failed verification: ${why}`,
    cause === undefined ? {} : { cause },
  );

/** Parses manifest bytes (not yet authenticated: {@link checkManifestMac} does that once the key is open). */
export function parseManifest(
  bytes: Buffer,
  expected: { tenantId: string; snapshotId?: string },
): SnapshotManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw corrupt('not JSON', error);
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version > FORMAT_VERSION) {
    throw new VaultError(
      'VAULT_FORMAT_UNSUPPORTED',
      'The snapshot was written in a newer format than this code reads',
      {
        details: { formatVersion: version },
      },
    );
  }
  const parsed = SnapshotManifestSchema.safeParse(json);
  if (!parsed.success || parsed.data.formatVersion !== FORMAT_VERSION) throw corrupt('malformed');
  const m = parsed.data;
  if (m.tenantId !== expected.tenantId) {
    throw new VaultError('VAULT_SNAPSHOT_TENANT_MISMATCH', 'The snapshot belongs to another tenant', {
      details: { tenantId: expected.tenantId },
    });
  }
  if (expected.snapshotId !== undefined && m.snapshotId !== expected.snapshotId)
    throw corrupt('it names another snapshot');
  return m;
}

/** Checks the manifest's MAC with the snapshot's manifest key. */
export function checkManifestMac(m: SnapshotManifest, macKey: Buffer): void {
  const { mac, ...body } = m;
  if (!macEquals(mac, manifestMac(macKey, canonicalJson(body))))
    throw corrupt('its authentication tag does not match');
}
