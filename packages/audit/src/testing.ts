/**
 * The conformance suite every audit sink must pass. A custom sink (say, MySQL) proves itself with:
 * @example
 * import { describe, expect, it } from 'vitest';
 * import { auditSinkSuite } from '@tenantry/audit/testing';
 * describe('my sink', () => auditSinkSuite(() => ({ sink: mySink }), { it, expect }));
 *
 * The test functions are passed in rather than imported, so this module loads anywhere (ESM and
 * CJS, inside or outside a test runner).
 */
import { randomBytes } from 'node:crypto';
import { ManualClock, uuidv7 } from '@tenantry/core';
import type { ExpectStatic, TestAPI } from 'vitest';
import { createAuditLog } from './audit-log.js';
import { generateCheckpointKeys } from './checkpoint.js';
import {
  type AuditEventInput,
  AuditEventInputSchema,
  type ChainedEvent,
  type PreparedEvent,
  prepareEvent,
  AuditLimitsSchema,
} from './event.js';
import { verifyExport } from './export.js';
import { createMasker } from './masking.js';
import { type AuditSink, isReadable } from './sink.js';
import { verifyEvents } from './verify.js';

/** The test runner's `it` and `expect` (vitest's, or a compatible runner's). */
export interface ConformanceApi {
  it: TestAPI;
  expect: ExpectStatic;
}

/** What the conformance suite needs from a backend. */
export interface AuditSinkHarness {
  sink: AuditSink;
  /**
   * For write-only sinks: the events of `chain` as the sink's output holds them (e.g. the captured
   * stdout lines, parsed). The suite then checks chaining through what the output really contains.
   */
  readBack?: (chain: string) => Promise<ChainedEvent[]>;
}

const tenant = (): string => `t${randomBytes(6).toString('hex')}`;
let idCounter = 0;
const masker = createMasker();
const limits = AuditLimitsSchema.parse({});

/** Build prepared events directly (as the log would) for sink-level tests. */
export function preparedEvents(
  tenantId: string | null,
  count: number,
  extra: Partial<AuditEventInput> = {},
): PreparedEvent[] {
  return Array.from({ length: count }, (_, i) => {
    idCounter++;
    const ts = 1_780_000_000_000 + idCounter;
    const id = uuidv7();
    const input = AuditEventInputSchema.parse({
      tenantId,
      actor: { id: `user-${i % 3}`, roles: ['MANAGER'] },
      action: 'invoice.created',
      targets: [{ type: 'invoice', id: `inv-${i}` }],
      outcome: 'success',
      occurredAt: ts,
      ...extra,
    });
    return prepareEvent(input, { id, now: ts, masker, limits });
  });
}

/**
 * The audit sink conformance suite. Tests that need reading are skipped, with the reason, for
 * write-only sinks; they check the sink's output through `readBack` where it exists.
 */
export function auditSinkSuite(harness: () => AuditSinkHarness, api: ConformanceApi): void {
  const { it, expect } = api;
  const events = async (chain: string): Promise<ChainedEvent[]> => {
    const h = harness();
    if (isReadable(h.sink)) return h.sink.readChain(chain, 0, 1_000_000);
    if (h.readBack) return h.readBack(chain);
    throw new Error('write-only sink without readBack');
  };

  it('assigns dense sequence numbers from 1 and links every event to the previous hash', async () => {
    const t = tenant();
    const stored = await harness().sink.append(preparedEvents(t, 5));
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    await harness().sink.append(preparedEvents(t, 3));
    const all = await events(t);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (let i = 1; i < all.length; i++) expect(all[i]!.prevHash).toBe(all[i - 1]!.hash);
    expect(await verifyEvents(t, [all])).toMatchObject({ ok: true, checked: 8 });
  });

  it('keeps one independent chain per tenant, including the platform chain', async () => {
    const [a, b] = [tenant(), tenant()];
    await harness().sink.append([
      ...preparedEvents(a, 2),
      ...preparedEvents(b, 3),
      ...preparedEvents(a, 1),
      ...preparedEvents(null, 2),
    ]);
    expect((await events(a)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await events(b)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await verifyEvents(a, [await events(a)])).ok).toBe(true);
    const platform = await events('$platform');
    expect(platform.length).toBeGreaterThanOrEqual(2);
    expect((await verifyEvents('$platform', [platform])).ok).toBe(true);
  });

  it('never forks a chain under concurrent appends to one tenant', async () => {
    const t = tenant();
    await Promise.all(Array.from({ length: 20 }, () => harness().sink.append(preparedEvents(t, 5))));
    const all = await events(t);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(new Set(all.map((e) => e.id)).size).toBe(100);
    expect((await verifyEvents(t, [all])).ok).toBe(true);
  });

  it('stores the canonical text exactly (unicode, numbers, nesting) so hashes round-trip', async () => {
    const t = tenant();
    const [e] = preparedEvents(t, 1, {
      metadata: {
        text: 'Zürich – 東京 – 🚀 "quoted" \\ back\nline\ttab',
        numbers: [0, -0, 0.1, 1e21, 1e-7, -123.456, 2 ** 53 - 1],
        nested: { deep: { deeper: [true, false, null, { k: 'v' }] } },
      },
      request: { ip: '2001:db8::1', userAgent: 'Mozilla/5.0', requestId: 'req-1' },
      impersonator: { id: 'support-7', roles: ['SUPER_ADMIN'], kind: 'user' },
    });
    await harness().sink.append([e!]);
    const [back] = await events(t);
    expect(back!.text).toBe(e!.text);
    expect(JSON.parse(back!.text)).toEqual(JSON.parse(e!.text));
    expect((await verifyEvents(t, [[back!]])).ok).toBe(true);
  });

  it('skips events it already holds when a batch may be a replay (readable sinks)', async (ctx) => {
    const h = harness();
    if (!isReadable(h.sink))
      return ctx.skip('write-only sink: replays are deduplicated by the readable store behind it');
    const t = tenant();
    const batch = preparedEvents(t, 4);
    await h.sink.append(batch.slice(0, 3));
    const second = await h.sink.append(batch, { mayBeDuplicate: true });
    expect(second.map((e) => e.id)).toEqual([batch[3]!.id]);
    await h.sink.append(batch, { mayBeDuplicate: true });
    const all = await events(t);
    expect(all.map((e) => e.id)).toEqual(batch.map((e) => e.id));
    expect((await verifyEvents(t, [all])).ok).toBe(true);
  });

  it('answers queries by time range, actor, action and target with cursor pagination (readable sinks)', async (ctx) => {
    const h = harness();
    if (!isReadable(h.sink)) return ctx.skip('write-only sink: queries need a readable sink');
    const clock = new ManualClock('2027-03-01T00:00:00Z');
    const log = createAuditLog({ sink: h.sink, clock, delivery: { mode: 'direct' } });
    const t = tenant();
    for (let i = 0; i < 25; i++) {
      clock.advance(60_000);
      await log.record({
        tenantId: t,
        actor: { id: i % 2 ? 'alice' : 'bob' },
        action: i % 5 === 0 ? 'plan.changed' : 'invoice.created',
        targets: [{ type: i % 3 === 0 ? 'plan' : 'invoice', id: `x${i % 4}` }],
        outcome: 'success',
      });
    }
    const all: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await log.query({ tenantId: t, limit: 7, cursor });
      all.push(...page.events.map((e) => e.seq));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(all).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const alice = await log.query({ tenantId: t, actorId: 'alice', limit: 100 });
    expect(alice.events).toHaveLength(12);
    expect(alice.events.every((e) => e.actor.id === 'alice')).toBe(true);
    expect((await log.query({ tenantId: t, action: 'plan.changed' })).events.map((e) => e.seq)).toEqual([
      1, 6, 11, 16, 21,
    ]);
    expect((await log.query({ tenantId: t, target: { type: 'plan' } })).events).toHaveLength(9);
    const planX0 = await log.query({ tenantId: t, target: { type: 'plan', id: 'x0' } });
    expect(planX0.events.map((e) => e.seq)).toEqual([1, 13, 25]);
    const start = Date.parse('2027-03-01T00:05:00Z');
    const window = await log.query({ tenantId: t, from: start, to: start + 5 * 60_000 });
    expect(window.events.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9]);
    expect((await log.query({ tenantId: tenant() })).events).toEqual([]);
    await expect(log.query({ tenantId: tenant(), cursor: cursor ?? 'bogus' })).rejects.toMatchObject({
      code: 'AUDIT_CURSOR_INVALID',
    });
  });

  it('signs checkpoints, stores them, and verify catches a truncated tail only against one (readable sinks)', async (ctx) => {
    const h = harness();
    if (!isReadable(h.sink)) return ctx.skip('write-only sink: checkpoints need a readable sink');
    const keys = generateCheckpointKeys();
    const log = createAuditLog({
      sink: h.sink,
      signingKey: keys.secretKey,
      publicKeys: [keys.publicKey],
      delivery: { mode: 'direct' },
    });
    const t = tenant();
    for (let i = 0; i < 6; i++)
      await log.record({ tenantId: t, actor: { id: 'u' }, action: 'secret.rotated', outcome: 'success' });
    const cp = await log.checkpoint(t);
    expect(cp).toMatchObject({ chain: t, seq: 6 });
    expect(await h.sink.listCheckpoints(t)).toEqual([cp]);
    expect(await log.verify(t)).toMatchObject({ ok: true, checked: 6 });
    // A checkpoint beyond the stored head (as if the tail had been cut off) is reported as truncation.
    const other = tenant();
    for (let i = 0; i < 3; i++)
      await log.record({ tenantId: other, actor: { id: 'u' }, action: 'x.y', outcome: 'success' });
    const fake = { ...cp!, chain: other };
    await expect(log.verify(other, { checkpoints: [fake] })).rejects.toMatchObject({
      code: 'AUDIT_CHECKPOINT_INVALID',
    });
    expect(await log.verify(t, { fromSeq: 3, toSeq: 5 })).toMatchObject({ ok: true, checked: 3 });
  });

  it('exports a trail an outsider verifies with the public key alone (readable sinks)', async (ctx) => {
    const h = harness();
    if (!isReadable(h.sink)) return ctx.skip('write-only sink: its output is verified with verifyAuditLines');
    const keys = generateCheckpointKeys();
    const log = createAuditLog({ sink: h.sink, signingKey: keys.secretKey, publicKeys: [keys.publicKey] });
    const t = tenant();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        log.record({
          tenantId: t,
          actor: { id: 'u' },
          action: 'doc.viewed',
          targets: [{ type: 'doc', id: String(i) }],
          outcome: 'success',
        }),
      ),
    );
    const cp = await log.checkpoint(t);
    const lines: string[] = [];
    for await (const line of log.exportTrail(t)) lines.push(line);
    expect(lines).toHaveLength(1 + 10 + 1);
    expect(await verifyExport(lines, { publicKeys: [keys.publicKey], checkpoints: [cp!] })).toMatchObject({
      ok: true,
      checked: 10,
    });
    const tampered = lines.map((l, i) => (i === 4 ? l.replace('doc.viewed', 'doc.deleted') : l));
    expect(await verifyExport(tampered, { publicKeys: [keys.publicKey] })).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      kind: 'modified',
    });
    const cut = lines.filter((_, i) => i < 9);
    expect(await verifyExport(cut, { publicKeys: [keys.publicKey], checkpoints: [cp!] })).toMatchObject({
      ok: false,
      firstBadSeq: 9,
      kind: 'truncated',
    });
  });

  it('refuses reads on a write-only sink through the capability flag instead of faking them', async (ctx) => {
    const h = harness();
    if (isReadable(h.sink)) return ctx.skip('readable sink: covered by the read tests');
    expect(h.sink.capabilities.readable).toBe(false);
    const log = createAuditLog({ sink: h.sink, delivery: { mode: 'direct' } });
    const t = tenant();
    await log.record({ tenantId: t, actor: { id: 'u' }, action: 'x.y', outcome: 'success' });
    await expect(log.verify(t)).rejects.toMatchObject({ code: 'AUDIT_CAPABILITY_MISSING' });
    expect((await events(t)).map((e) => e.seq)).toEqual([1]);
  });
}
