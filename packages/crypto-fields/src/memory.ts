// @tenantry/crypto-fields/memory: in-process backends (re-exports only).
export { MemoryDataKeyStore, MemoryCheckpointStore } from './backends/memory.js';
