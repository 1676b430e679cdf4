/**
 * The conformance suite every audit sink must pass. A custom sink (say, MySQL) proves itself with:
 * @example
 * import { describe, expect, it } from 'vitest';
 * import { auditSinkConformance } from '@tenantry/audit/testing';
 * describe('my sink', () => auditSinkConformance(() => ({ sink: mySink }), { describe, it, expect }));
 *
 * The test functions are passed in (core's runner-neutral `SuiteApi`) rather than imported, so this
 * module depends on no test runner and loads anywhere (ESM and CJS, inside or outside a runner).
 */
import { randomBytes } from 'node:crypto';
import { ManualClock, runAsTenant, uuidv7 } from '@tenantry/core';
import { type SuiteApi, settledCode } from '@tenantry/core/testing';
import { createAuditLog } from '../audit-log.js';
import { generateCheckpointKeys } from '../checkpoint.js';
import { AuditError } from '../errors.js';
import {
  type AuditEventInput,
  AuditEventInputSchema,
  AuditLimitsSchema,
  type ChainedEvent,
  type PreparedEvent,
  prepareEvent,
} from '../event.js';
import { verifyExport } from '../export.js';
import { createMasker } from '../masking.js';
import { type AuditSink, isReadable } from '../audit-sink.js';
import { verifyEvents } from '../verify.js';

/**
 * What the conformance suite needs from a backend. The suite calls the harness function once per
 * test and uses what it returns for that whole test; it may return a fresh sink each time (e.g. a
 * new `MemoryAuditSink`) or one shared sink: every test works on tenants of its own (random ids),
 * and the one test on the platform trail only counts its own events.
 */
export interface AuditSinkHarness {
  sink: AuditSink;
  /**
   * For write-only sinks: the events of `chain` as the sink's output holds them (e.g. the captured
   * stdout lines, parsed). The suite then checks chaining through what the output really contains.
   * Required when `sink.capabilities.readable` is false.
   */
  readBack?: (chain: string) => Promise<ChainedEvent[]>;
}

const tenant = (): string => `t${randomBytes(6).toString('hex')}`;
const actor = { id: 'conformance', roles: ['TENANT_ADMIN'] };
const inTenant = <R>(tenantId: string, fn: () => Promise<R>): Promise<R> =>
  runAsTenant({ tenantId, actor }, fn);
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
      actor: { id: `user-${i % 3}`, roles: ['MANAGER'] },
      action: 'invoice.created',
      targets: [{ type: 'invoice', id: `inv-${i}` }],
      outcome: 'success',
      occurredAt: ts,
      ...extra,
    });
    return prepareEvent({ ...input, tenantId }, { id, now: ts, masker, limits });
  });
}

async function events(h: AuditSinkHarness, chain: string): Promise<ChainedEvent[]> {
  if (isReadable(h.sink)) return h.sink.readChain(chain, 0, 1_000_000);
  if (h.readBack) return h.readBack(chain);
  throw new AuditError('VALIDATION_FAILED', 'The harness of a write-only sink must provide readBack', {
    details: { sink: h.sink.name },
  });
}

/**
 * The audit sink conformance suite (port `AuditSink`). Readable sinks are checked on reads, queries,
 * checkpoints and exports; for a write-only sink (`capabilities.readable: false`) the same tests
 * check instead that the log refuses those reads with `AUDIT_CAPABILITY_MISSING`, and its output is
 * checked through the harness's `readBack`.
 * @example auditSinkConformance(() => ({ sink: new MemoryAuditSink() }), { describe, it, expect });
 */
export function auditSinkConformance(harness: () => AuditSinkHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;
  describe('AuditSink conformance', () => {
    it('assigns dense sequence numbers from 1 and links every event to the previous hash', async () => {
      const h = harness();
      const t = tenant();
      const stored = await h.sink.append(preparedEvents(t, 5));
      expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      await h.sink.append(preparedEvents(t, 3));
      const all = await events(h, t);
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      for (let i = 1; i < all.length; i++) expect(all[i]!.prevHash).toBe(all[i - 1]!.hash);
      expect(await verifyEvents(t, [all])).toMatchObject({ ok: true, checked: 8 });
    });

    it('keeps one independent chain per tenant, including the platform chain', async () => {
      const h = harness();
      const [a, b] = [tenant(), tenant()];
      const platformEvents = preparedEvents(null, 2);
      await h.sink.append([
        ...preparedEvents(a, 2),
        ...preparedEvents(b, 3),
        ...preparedEvents(a, 1),
        ...platformEvents,
      ]);
      expect((await events(h, a)).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect((await events(h, b)).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect((await verifyEvents(a, [await events(h, a)])).ok).toBe(true);
      const platform = await events(h, '$platform');
      const mine = new Set(platformEvents.map((e) => e.id));
      expect(platform.filter((e) => mine.has(e.id))).toHaveLength(2);
      expect((await verifyEvents('$platform', [platform])).ok).toBe(true);
    });

    it('never forks a chain under concurrent appends to one tenant', async () => {
      const h = harness();
      const t = tenant();
      await Promise.all(Array.from({ length: 20 }, () => h.sink.append(preparedEvents(t, 5))));
      const all = await events(h, t);
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(new Set(all.map((e) => e.id)).size).toBe(100);
      expect((await verifyEvents(t, [all])).ok).toBe(true);
    });

    it('stores the canonical text exactly (unicode, numbers, nesting) so hashes round-trip', async () => {
      const h = harness();
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
      await h.sink.append([e!]);
      const [back] = await events(h, t);
      expect(back!.text).toBe(e!.text);
      expect(JSON.parse(back!.text)).toEqual(JSON.parse(e!.text));
      expect((await verifyEvents(t, [[back!]])).ok).toBe(true);
    });

    it('skips events it already holds when a batch may be a replay (readable sinks)', async () => {
      const h = harness();
      const t = tenant();
      const batch = preparedEvents(t, 4);
      if (!isReadable(h.sink)) {
        // A write-only sink cannot know what it holds; the readable store behind a fan-out deduplicates.
        expect(h.sink.capabilities.readable).toBe(false);
        return;
      }
      await h.sink.append(batch.slice(0, 3));
      const second = await h.sink.append(batch, { mayBeDuplicate: true });
      expect(second.map((e) => e.id)).toEqual([batch[3]!.id]);
      await h.sink.append(batch, { mayBeDuplicate: true });
      const all = await events(h, t);
      expect(all.map((e) => e.id)).toEqual(batch.map((e) => e.id));
      expect((await verifyEvents(t, [all])).ok).toBe(true);
    });

    it('answers queries by time range, actor, action and target with cursor pagination (write-only: refused)', async () => {
      const h = harness();
      const clock = new ManualClock('2027-03-01T00:00:00Z');
      const log = createAuditLog({ sink: h.sink, clock, delivery: { mode: 'direct' } });
      const t = tenant();
      const firstCursor = await inTenant(t, async () => {
        for (let i = 0; i < 25; i++) {
          clock.advance(60_000);
          await log.record({
            actor: { id: i % 2 ? 'alice' : 'bob' },
            action: i % 5 === 0 ? 'plan.changed' : 'invoice.created',
            targets: [{ type: i % 3 === 0 ? 'plan' : 'invoice', id: `x${i % 4}` }],
            outcome: 'success',
          });
        }
        if (!isReadable(h.sink)) {
          expect(await settledCode(log.query())).toBe('AUDIT_CAPABILITY_MISSING');
          return null;
        }
        const all: number[] = [];
        let cursor: string | undefined;
        do {
          const page = await log.query({ limit: 7, cursor });
          all.push(...page.events.map((e) => e.seq));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(all).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
        const alice = await log.query({ actorId: 'alice', limit: 100 });
        expect(alice.events).toHaveLength(12);
        expect(alice.events.every((e) => e.actor.id === 'alice')).toBe(true);
        expect((await log.query({ action: 'plan.changed' })).events.map((e) => e.seq)).toEqual([
          1, 6, 11, 16, 21,
        ]);
        expect((await log.query({ target: { type: 'plan' } })).events).toHaveLength(9);
        const planX0 = await log.query({ target: { type: 'plan', id: 'x0' } });
        expect(planX0.events.map((e) => e.seq)).toEqual([1, 13, 25]);
        const start = Date.parse('2027-03-01T00:05:00Z');
        const window = await log.query({ from: start, to: start + 5 * 60_000 });
        expect(window.events.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9]);
        return (await log.query({ limit: 3 })).nextCursor;
      });
      if (!isReadable(h.sink)) return;
      await inTenant(tenant(), async () => {
        expect((await log.query()).events).toEqual([]);
        // A cursor of another tenant's trail is refused, never followed.
        expect(await settledCode(log.query({ cursor: firstCursor ?? 'bogus' }))).toBe('AUDIT_CURSOR_INVALID');
      });
    });

    it('signs checkpoints, stores them, and verifies ranges against them (write-only: refused)', async () => {
      const h = harness();
      const keys = generateCheckpointKeys();
      const log = createAuditLog({
        sink: h.sink,
        signingKey: keys.secretKey,
        publicKeys: [keys.publicKey],
        delivery: { mode: 'direct' },
      });
      const t = tenant();
      await inTenant(t, async () => {
        for (let i = 0; i < 6; i++)
          await log.record({ actor: { id: 'u' }, action: 'secret.rotated', outcome: 'success' });
        if (!isReadable(h.sink)) {
          expect(await settledCode(log.checkpoint())).toBe('AUDIT_CAPABILITY_MISSING');
          expect(await settledCode(log.verify())).toBe('AUDIT_CAPABILITY_MISSING');
          return;
        }
        const cp = await log.checkpoint();
        expect(cp).toMatchObject({ chain: t, seq: 6 });
        expect(await h.sink.listCheckpoints(t)).toEqual([cp]);
        expect(await log.verify()).toMatchObject({ ok: true, checked: 6 });
        expect(await log.verify(t, { fromSeq: 3, toSeq: 5 })).toMatchObject({ ok: true, checked: 3 });
        // A genuine checkpoint relabelled for another chain does not verify.
        expect(await settledCode(log.verify(t, { checkpoints: [{ ...cp!, chain: tenant() }] }))).toBe(
          'AUDIT_CHECKPOINT_INVALID',
        );
      });
    });

    it('exports a trail an outsider verifies with the public key alone (write-only: refused)', async () => {
      const h = harness();
      const keys = generateCheckpointKeys();
      const log = createAuditLog({ sink: h.sink, signingKey: keys.secretKey, publicKeys: [keys.publicKey] });
      const t = tenant();
      await inTenant(t, async () => {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            log.record({
              actor: { id: 'u' },
              action: 'doc.viewed',
              targets: [{ type: 'doc', id: String(i) }],
              outcome: 'success',
            }),
          ),
        );
        if (!isReadable(h.sink)) {
          expect(await settledCode((async () => log.exportTrail())())).toBe('AUDIT_CAPABILITY_MISSING');
          return;
        }
        const cp = await log.checkpoint();
        if (!cp) throw new AuditError('AUDIT_CHECKPOINT_INVALID', 'no checkpoint of a non-empty trail');
        const lines: string[] = [];
        for await (const line of log.exportTrail()) lines.push(line);
        expect(lines).toHaveLength(1 + 10 + 1);
        expect(await verifyExport(lines, { publicKeys: [keys.publicKey], checkpoints: [cp] })).toMatchObject({
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
        expect(await verifyExport(cut, { publicKeys: [keys.publicKey], checkpoints: [cp] })).toMatchObject({
          ok: false,
          firstBadSeq: 9,
          kind: 'truncated',
        });
      });
    });

    it('declares its capabilities truthfully: readable exactly when it implements every read', async () => {
      const h = harness();
      const s = h.sink as unknown as Record<string, unknown>;
      const implementsReads = ['head', 'readChain', 'query', 'putCheckpoint', 'listCheckpoints'].every(
        (k) => typeof s[k] === 'function',
      );
      expect(h.sink.capabilities.readable).toBe(implementsReads);
      expect(isReadable(h.sink)).toBe(h.sink.capabilities.readable);
      if (!isReadable(h.sink)) expect(typeof h.readBack).toBe('function');
    });
  });
}
