// @tenantry/vault/memory: in-memory storage and snapshot records store (re-exports only).
export { MemorySnapshotStorage } from './storage/memory.js';
export { MemorySnapshotRecordStore } from './backends/memory.js';
