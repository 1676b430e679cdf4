export { MemoryCounterStore, MemoryLockBackend } from './backends/memory.js';
