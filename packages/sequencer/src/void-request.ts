import { type Clock } from '@tenantry/core';
import { z } from 'zod';
import type { VoidRecord } from './counter-store.js';
import { parseSequencerInput } from './input.js';

/** A void request: the number to void and why (1–500 characters). */
export const VoidRequestSchema = z.object({
  number: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  reason: z.string().min(1).max(500),
});

/**
 * Validate a void request and stamp it with the clock's time.
 * @throws ValidationError `VALIDATION_FAILED`
 * @internal
 */
export function parseVoid(number: number, reason: string, clock: Clock): VoidRecord {
  const v = parseSequencerInput(VoidRequestSchema, { number, reason }, 'void');
  return Object.freeze({ number: v.number, reason: v.reason, voidedAt: clock.now() });
}
