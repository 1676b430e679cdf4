// @tenantry/audit/stdout: the write-only JSON-lines sink for log pipelines, and the tools that verify
// what it printed (re-exports only).
export {
  StdoutAuditSink,
  type StdoutAuditSinkOptions,
  type LineDestination,
  type AuditLine,
  parseAuditLines,
  verifyAuditLines,
} from './backends/stdout.js';
