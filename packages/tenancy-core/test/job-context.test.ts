import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { runWorkers } from '@tenantry/testkit';
import { describe, expect, it } from 'vitest';
import { createJobContextCodec, requireTenant, runAsTenant } from '../src/index.js';

const worker = fileURLToPath(new URL('./workers/restore-job-worker.ts', import.meta.url));
const ctx = {
  tenantId: 'acme',
  actor: { id: 'u1', roles: ['MANAGER'], displayName: 'Ana' },
  impersonator: { id: 'support-7', roles: ['SUPER_ADMIN'] },
  requestId: 'req-123',
};

async function restoreInChild(payload: unknown, signingKeyHex?: string) {
  const result = await runWorkers({
    script: worker,
    workers: 1,
    args: () => [JSON.stringify(payload)],
    env: signingKeyHex ? { JOB_SIGNING_KEY: signingKeyHex } : {},
    timeoutMs: 30_000,
  });
  return result.messages[0] as {
    ok: boolean;
    before: unknown;
    restored?: unknown;
    code?: string;
    pid?: number;
  };
}

describe('job context (T5)', () => {
  it('round-trips through a job payload into another process, equal to the original', async () => {
    const key = randomBytes(32);
    const codec = createJobContextCodec({ signingKey: key });
    const { payload, original } = runAsTenant(ctx, () => ({
      payload: JSON.parse(JSON.stringify({ job: 'send-invoice', tenantry: codec.capture() })),
      original: requireTenant(),
    }));
    const reply = await restoreInChild(payload.tenantry, key.toString('hex'));
    expect(reply.ok).toBe(true);
    expect(reply.pid).not.toBe(process.pid);
    expect(reply.before).toBeNull();
    expect(reply.restored).toEqual(original);
  });

  it('a signed codec refuses a payload whose tenant was changed in the queue', async () => {
    const key = randomBytes(32);
    const payload = runAsTenant(ctx, () => createJobContextCodec({ signingKey: key }).capture());
    const forged = { ...payload, context: { ...payload.context, tenantId: 'globex' } };
    const reply = await restoreInChild(forged, key.toString('hex'));
    expect(reply).toMatchObject({ ok: false, code: 'JOB_CONTEXT_INVALID' });
  });

  it('refuses unsigned payloads when a key is configured, and malformed ones always', () => {
    const signed = createJobContextCodec({ signingKey: randomBytes(32) });
    const unsigned = runAsTenant(ctx, () => createJobContextCodec({ insecureUnsigned: true }).capture());
    expect(() => signed.restore(unsigned, () => 1)).toThrowError(
      expect.objectContaining({ code: 'JOB_CONTEXT_INVALID' }),
    );
    expect(() => signed.restore({ v: 2 }, () => 1)).toThrowError(
      expect.objectContaining({ code: 'JOB_CONTEXT_INVALID' }),
    );
    expect(() => createJobContextCodec({ insecureUnsigned: true }).restore('nope', () => 1)).toThrowError(
      expect.objectContaining({ code: 'JOB_CONTEXT_INVALID' }),
    );
  });

  it('capture outside a tenant context fails', () => {
    expect(() => createJobContextCodec({ insecureUnsigned: true }).capture()).toThrowError(
      expect.objectContaining({ code: 'TENANT_CONTEXT_MISSING' }),
    );
  });

  it('requires a signing key: no key (without the explicit insecureUnsigned opt-out) is refused', () => {
    for (const options of [undefined, {}, { insecureUnsigned: false }, { signingKey: 'x'.repeat(40) }]) {
      expect(() => createJobContextCodec(options as never)).toThrowError(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    }
    // a forged tenant in an unsigned payload is refused by the default (keyed) codec
    const forged = { v: 1, context: { ...ctx, tenantId: 'globex' } };
    expect(() =>
      createJobContextCodec({ signingKey: randomBytes(32) }).restore(forged, () => 1),
    ).toThrowError(expect.objectContaining({ code: 'JOB_CONTEXT_INVALID' }));
  });

  it('rejects short signing keys', () => {
    expect(() => createJobContextCodec({ signingKey: randomBytes(8) })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});
