import { TelemetryAttributes, type withSpan } from '@tenantry/core';
import type { CounterKey } from './series.js';

/** Span attribute names of the sequencer, beside core's `TelemetryAttributes.TENANT_ID`. */
export const SequencerTelemetryAttributes = {
  /** The series key. */
  SERIES: 'tenantry.sequencer.series',
  /** The period key (`''`, `YYYY`, `YYYY-MM`). */
  PERIOD: 'tenantry.sequencer.period',
  /** How many numbers the call takes (batch size). */
  COUNT: 'tenantry.sequencer.count',
} as const;

type Attributes = Parameters<typeof withSpan>[2];

/** The attributes of one sequencer span: ids and counts only, never document contents. @internal */
export function spanAttributes(key: CounterKey, count?: number): Attributes {
  const a: Attributes = {
    [TelemetryAttributes.TENANT_ID]: key.tenant,
    [SequencerTelemetryAttributes.SERIES]: key.series,
    [SequencerTelemetryAttributes.PERIOD]: key.period,
  };
  if (count !== undefined) a[SequencerTelemetryAttributes.COUNT] = count;
  return a;
}
