import type { AuditPort, Clock, Logger } from '@tenantry/core';
import type { FieldCrypto } from '@tenantry/crypto-fields';
import type { Maintenance } from './maintenance.js';
import type { ModuleRegistry } from './registry.js';
import type { Compression } from './snapshot/compression.js';
import type { SnapshotRecordStore } from './snapshot-record-store.js';
import type { SnapshotStorage } from './storage/storage.js';

/** What the vault's operations share (built once by `createVault`). @internal */
export interface VaultRuntime {
  readonly registry: ModuleRegistry;
  readonly storage: SnapshotStorage;
  readonly records: SnapshotRecordStore;
  readonly crypto: FieldCrypto;
  readonly audit: AuditPort;
  readonly maintenance: Maintenance | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly newId: () => string;
  readonly compression: Compression;
  readonly chunkBytes: number;
  readonly keyPrefix: string;
}
