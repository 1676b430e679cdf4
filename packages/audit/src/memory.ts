// @tenantry/audit/memory: the in-memory sink (re-exports only).
export { MemoryAuditSink, type MemoryAuditSinkOptions } from './backends/memory.js';
