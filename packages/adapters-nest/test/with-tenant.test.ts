import { createJobContextCodec, isTenantryError, requireTenant, runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { WithTenant } from '../src/index.js';

const codec = createJobContextCodec({ signingKey: new Uint8Array(32).fill(3) });

class ReportConsumer {
  readonly seen: string[] = [];
  async handle(job: { month: string; tenantry?: unknown }): Promise<string> {
    await new Promise((r) => setTimeout(r, 1));
    this.seen.push(`${requireTenant().tenantId}/${job.month}`);
    return requireTenant().tenantId;
  }
}
// Applied as a call: the repository's type check runs without experimentalDecorators.
const desc = Object.getOwnPropertyDescriptor(ReportConsumer.prototype, 'handle') as PropertyDescriptor;
WithTenant(codec)(ReportConsumer.prototype, 'handle', desc);
Object.defineProperty(ReportConsumer.prototype, 'handle', desc);

describe('@WithTenant() (T5)', () => {
  it('runs the handler in the tenant captured at enqueue time, and refuses tampered or missing envelopes', async () => {
    const job = runAsTenant({ tenantId: 'globex', actor: { id: 'u-1' } }, () => ({
      month: '2026-11',
      tenantry: codec.capture(),
    }));
    const consumer = new ReportConsumer();
    expect(await consumer.handle(job)).toBe('globex');
    const tampered = structuredClone(job) as { month: string; tenantry: { context: { tenantId: string } } };
    tampered.tenantry.context.tenantId = 'acme';
    expect(() => consumer.handle(tampered)).toThrow(expect.objectContaining({ code: 'JOB_CONTEXT_INVALID' }));
    let missing: unknown;
    try {
      await consumer.handle({ month: 'x' });
    } catch (e) {
      missing = e;
    }
    expect(isTenantryError(missing, 'JOB_CONTEXT_INVALID')).toBe(true);
    expect(consumer.seen).toEqual(['globex/2026-11']);
  });

  it("reads a BullMQ job's data.tenantry (WorkerHost.process(job)), and refuses a tampered one", async () => {
    class Processor {
      async process(job: { data: { month: string; tenantry?: unknown } }): Promise<string> {
        return `${requireTenant().tenantId}/${requireTenant().actor.id}/${job.data.month}`;
      }
    }
    const d = Object.getOwnPropertyDescriptor(Processor.prototype, 'process') as PropertyDescriptor;
    WithTenant(codec)(Processor.prototype, 'process', d);
    Object.defineProperty(Processor.prototype, 'process', d);
    const data = runAsTenant({ tenantId: 'initech', actor: { id: 'u-2' } }, () => ({
      month: '2026-12',
      tenantry: codec.capture(),
    }));
    const p = new Processor();
    expect(await p.process({ data })).toBe('initech/u-2/2026-12');
    const tampered = structuredClone(data) as {
      month: string;
      tenantry: { context: { actor: { id: string } } };
    };
    tampered.tenantry.context.actor.id = 'admin';
    expect(() => p.process({ data: tampered })).toThrow(
      expect.objectContaining({ code: 'JOB_CONTEXT_INVALID' }),
    );
  });
});
