// @tenantry/audit: the audit log service, its port (AuditSink), schemas and errors (re-exports only).
// Backends are subpaths: /postgres, /mongo, /memory, /stdout; conformance suite: /testing.
export { AuditError, AuditErrorCodes, type AuditErrorCode } from './errors.js';
export type { JsonValue } from './json-value.js';
export {
  PLATFORM_CHAIN,
  chainKeyOf,
  AuditTargetSchema,
  type AuditTarget,
  AuditRequestSchema,
  type AuditRequest,
  AuditEventInputSchema,
  type AuditEventInput,
  AuditLimitsSchema,
  type AuditLimits,
  type AuditEventBody,
  type PreparedEvent,
  type ChainedEvent,
  type EventIndex,
  eventIndexOf,
  prepareEvent,
  diffChanges,
} from './event.js';
export { TrailKeySchema, type TrailKey } from './trail-scope.js';
export {
  SENSITIVE_FIELDS,
  markSensitive,
  Sensitive,
  sensitiveFieldsOf,
  MaskingOptionsSchema,
  DEFAULT_MASKED_PATHS,
  type MaskingOptions,
  type Masker,
  createMasker,
} from './masking.js';
export { GENESIS_HASH, EMPTY_HEAD, type ChainHead, hashEvent, chainBatch } from './chain.js';
export {
  type VerifyFailureKind,
  type VerifyResult,
  type ChainAnchor,
  type VerifyEventsOptions,
  verifyEvents,
} from './verify.js';
export {
  CheckpointSchema,
  type Checkpoint,
  type CheckpointKeyPair,
  generateCheckpointKeys,
  checkpointKeyId,
  publicKeyOf,
  signCheckpoint,
  verifyCheckpointSignature,
} from './checkpoint.js';
export {
  type SinkCapabilities,
  type AppendOptions,
  type SinkQuery,
  type AuditSink,
  type ReadableAuditSink,
  isReadable,
} from './audit-sink.js';
export { type FanOutSinkOptions, createFanOutSink } from './fan-out.js';
export { EXPORT_FORMAT, type VerifyExportOptions, verifyExport } from './export.js';
export { BatchWriter, type BatchWriterOptions } from './buffer.js';
export { FileSpool, type FileSpoolOptions } from './spool.js';
export {
  type FailureMode,
  type DeliveryOptions,
  type AuditLogOptions,
  type StoredAuditEvent,
  AuditQuerySchema,
  type AuditQuery,
  VerifyOptionsSchema,
  CheckpointOptionsSchema,
  type CheckpointOptions,
  type VerifyOptions,
  type AuditLog,
  createAuditLog,
  decodeStored,
} from './audit-log.js';
