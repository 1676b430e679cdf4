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
  MAX_SEQUENCE_NUMBER,
} from './series.js';
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
export { findGapsAndDuplicates, isGapless, type GapReport } from './inspection.js';
export { isDuplicateKeyError } from './duplicates.js';
