// @tenantry/approvals/memory: the in-memory store (re-exports only).
export { MemoryApprovalStore } from './backends/memory.js';
