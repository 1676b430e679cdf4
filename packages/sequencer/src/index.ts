// @tenantry/sequencer: the service, ports and schemas (re-exports only; backends live in the subpaths).
export { SequencerError, SequencerErrorCodes, type SequencerErrorCode } from './errors.js';
export {
  defineSeries,
  SeriesDefinitionSchema,
  type SeriesDefinitionInput,
  type Series,
  SeriesKeySchema,
  AllocationOptionsSchema,
  type AllocatedNumber,
  type CounterKey,
  type TenantOption,
  MAX_SEQUENCE_NUMBER,
  MAX_BATCH,
} from './series.js';
export { VoidRequestSchema } from './void-request.js';
export { SequencerTelemetryAttributes } from './telemetry.js';
export {
  PeriodRuleSchema,
  type PeriodRule,
  IssueDateSchema,
  type IssueDateInput,
  periodKey,
  toCalendarDate,
} from './period.js';
export {
  FormatTemplateSchema,
  type FormatPart,
  type FormatValues,
  formatNumber,
  parseFormat,
} from './format.js';
export type { CounterState, CounterStore, CounterStoreCapabilities, VoidRecord } from './counter-store.js';
export {
  type AcquireOptions,
  type FusedLockedCounter,
  type LockBackend,
  type LockLease,
  counterResource,
} from './lock-backend.js';
export {
  createLockedSequencer,
  LockedSequencerOptionsSchema,
  type LockedSequencer,
  type LockedSequencerConfig,
  type HolderContext,
  type WithNumberOptions,
} from './locked-sequencer.js';
export { CombineOptionsSchema, type CombineOptions } from './combining.js';
export { findGapsAndDuplicates, isGapless, type GapReport } from './inspection.js';
export { isDuplicateKeyError } from './duplicates.js';
