export { MemoryDataKeyStore, MemoryCheckpointStore } from './backends/memory.js';
