// @tenantry/sequencer/memory: the in-process backends (re-exports only).
export { MemoryCounterStore, MemoryLockBackend } from './backends/memory.js';
