import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import { DEMO_PASSWORD } from '../src/seed.js';

// Debian's chromium, installed by .ci/run when missing. Screenshots land in test-artifacts/ (gitignored).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const missing = existsSync(CHROMIUM)
  ? ''
  : ` [SKIPPED: no browser at ${CHROMIUM}; .ci/run installs Debian's chromium]`;

describe.skipIf(missing !== '')(`the web console in a browser${missing}`, () => {
  let app: RunningApp;
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    app = await startApp({ env: {}, config: { port: 0 }, rateLimit: false });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function signIn(email: string): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/console`);
    expect(new URL(page.url()).pathname).toBe('/login'); // no session: the sign-in page
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', DEMO_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/console\//);
    return page;
  }

  it('signs in, issues an invoice, requests a void, a second user approves it, and the audit badge verifies', async () => {
    const clerk = await signIn('clerk@acme.test');
    // Role-filtered navigation: an operator sees neither the audit trail nor platform pages.
    const nav = await clerk.locator('header nav a').allTextContents();
    expect(nav).toEqual(['Invoices', 'Customers', 'Approvals']);
    await clerk.selectOption('select[name=customerId]', { label: 'Wayne Enterprises' });
    await clerk.fill('input[name=amountCents]', '12345');
    await clerk.click('form[action="/console/invoices"] button[type=submit]');
    const issued = (await clerk.getByTestId('flash').textContent()) ?? '';
    const code = /Issued (\S+)/.exec(issued)?.[1];
    expect(code).toMatch(/^MAIN-\d{4}-00001$/);
    const row = clerk.locator(`tr[data-code="${code}"]`);
    await row.locator('input[name=justification]').fill('typo in the amount');
    await row.locator('button', { hasText: 'Request void' }).click();
    await expect
      .poll(() => clerk.getByTestId('flash').textContent())
      .toContain('waiting for a second person');
    expect(await clerk.locator(`tr[data-code="${code}"] .badge`).textContent()).toBe('void pending approval');
    await clerk.screenshot({ path: `${ARTIFACTS}1-void-requested.png`, fullPage: true });

    const manager = await signIn('manager@acme.test');
    await manager.goto(`${app.url}/console/approvals`);
    const request = manager.locator('[data-testid=inbox] tr[data-request]');
    expect(await request.count()).toBe(1);
    expect(await request.textContent()).toContain('typo in the amount');
    await manager.screenshot({ path: `${ARTIFACTS}2-approvals-inbox.png`, fullPage: true });
    await request.locator('button', { hasText: 'Approve' }).click();
    await expect.poll(() => manager.getByTestId('flash').textContent()).toBe('Request executed');

    await manager.goto(`${app.url}/console/invoices`);
    expect(await manager.locator(`tr[data-code="${code}"] .badge`).textContent()).toBe('VOID');
    expect(await manager.getByTestId('credit-notes').textContent()).toContain(code!);
    await manager.goto(`${app.url}/console/audit`);
    const badge = manager.getByTestId('audit-badge');
    expect(await badge.textContent()).toMatch(/^Chain verified · \d+ events$/);
    expect(await manager.getByTestId('audit-events').textContent()).toContain('invoice.voided');
    await manager.screenshot({ path: `${ARTIFACTS}3-audit-verified.png`, fullPage: true });
  }, 180_000);

  it('a tenant admin takes a snapshot and restores it from the console', async () => {
    const admin = await signIn('admin@globex.test');
    expect(await admin.locator('header nav a').allTextContents()).toContain('Snapshots');
    await admin.goto(`${app.url}/console/snapshots`);
    await admin.locator('button', { hasText: 'Take a snapshot' }).click();
    await expect.poll(() => admin.getByTestId('flash').textContent()).toMatch(/^Snapshot \S+ taken$/);
    await admin.locator('[data-testid=snapshots] button', { hasText: 'Restore' }).first().click();
    await expect
      .poll(() => admin.getByTestId('flash').textContent())
      .toMatch(/^Restored \(safety-snapshot\): /);
    await admin.screenshot({ path: `${ARTIFACTS}5-snapshot-restored.png`, fullPage: true });
  }, 180_000);

  it('platform staff see tenants and partners, not tenant pages; support entering an account shows on the tenant console', async () => {
    const root = await signIn('root@platform.test');
    expect(await root.locator('header nav a').allTextContents()).toEqual([
      'Tenants',
      'Partners',
      'Global settings',
    ]);
    const globex = root.locator('tr[data-tenant=globex]');
    await globex.locator('select[name=userId]').selectOption({ label: 'admin@globex.test' });
    await globex
      .locator('form[action="/console/platform/impersonate"] input[name=reason]')
      .fill('ticket 7: cannot see invoices');
    await globex.locator('button', { hasText: 'Enter as user' }).click();
    await root.waitForURL(/\/console\/invoices/);
    expect(await root.getByTestId('impersonating').textContent()).toContain('support session of');
    expect(await root.getByTestId('notifications').textContent()).toContain(
      'Support entered your account: ticket 7',
    );
    await root.screenshot({ path: `${ARTIFACTS}4-impersonation.png`, fullPage: true });
    await root.goto(`${app.url}/console/audit`);
    expect(await root.getByTestId('audit-events').textContent()).toContain('impersonation.started');
  }, 180_000);
});
