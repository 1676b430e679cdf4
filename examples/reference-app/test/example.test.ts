import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sourceNodeFlags } from '@tenantry/testkit';
import { expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

it('the reference example runs and keeps tenants apart', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [...sourceNodeFlags(), main], {
    timeout: 30_000,
  });
  expect(stdout).toContain('refused with TENANT_CONTEXT_MISSING');
  expect(stdout).toContain('request for acme by ana: cache key tenantry:t:acme:cache:invoices:open');
  expect(stdout).toContain('request for globex by bob: cache key tenantry:t:globex:cache:invoices:open');
  expect(stdout).toContain('bus listener registered by acme runs as acme');
  expect(stdout).toContain('bus listener registered by globex runs as globex');
  expect(stdout).toContain('worker restored job context: tenant acme, actor ana');
  expect(stdout).toContain('system_scope.entered(success), system_scope.exited(success)');
  expect(stdout).toContain('acme: invoice of 2026-12-31 failed to save; no number consumed');
  expect(stdout).toContain(
    'numbers: acme:INV-2026-000001, acme:INV-2027-000001, globex:INV-2026-000001, globex:INV-2026-000002, globex:INV-2027-000001',
  );
  expect(stdout).toContain('acme 2026 gapless: true');
  expect(stdout).toContain('acme audit chain verifies: true (2 events)');
  expect(stdout).toMatch(/acme SMTP password as stored: tcf1:x:.*\(contains the plaintext: false\)/);
  expect(stdout).toContain('opened for acme: true');
  expect(stdout).toContain(
    "the same ciphertext copied into globex's settings: refused with CRYPTO_UNKNOWN_KEY_ID",
  );
  expect(stdout).toContain('moved to another field of acme: refused with CRYPTO_DECRYPT_FAILED');
  expect(stdout).toContain('an outsider re-checking an edited export: ok=false, first bad event seq 2');
});
