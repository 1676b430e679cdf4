// @tenantry/vault/memory: in-memory storage and stores (re-exports only).
export { MemorySnapshotStorage } from './storage/memory.js';
