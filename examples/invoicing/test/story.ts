import { verifyExport } from '@tenantry/audit';
import { runAsTenant } from '@tenantry/core';
import { afterAll, beforeAll, expect, it as vitestIt } from 'vitest';
import type { RunningApp } from '../src/app.js';
import type { DocumentRow } from '../src/documents.js';
import { inTransaction } from '../src/schema.js';
import { ApiClient, trySignIn } from './helpers.js';

// Every step gets two minutes: PGlite serves one query at a time on a machine shared with other work.
const it = (name: string, fn: () => Promise<void>) => vitestIt(name, fn, 120_000);

interface AuditView {
  verified: { ok: boolean; checked: number; firstBadSeq?: number; kind?: string };
  checkpoint: { seq: number; signature: string } | null;
  events: Array<{
    seq: number;
    action: string;
    actor: { id: string };
    impersonator?: { id: string };
    targets: Array<{ type: string; id?: string }>;
  }>;
}

/** Where the story reads and alters what the stores keep, beside the app's own tables (always PostgreSQL). */
interface StoredState {
  /** The approval request's states, as the store keeps them. */
  approvalStates(
    tenantId: string,
    id: string,
  ): Promise<Array<{ approval_state: string; execution_state: string }>>;
  /** Alter one stored audit event behind the app's back ('invoice.voided' → 'invoice.viewed'); rows changed. */
  tamperAuditEvent(tenantId: string, seq: number): Promise<number>;
  /**
   * Whether a decision, its action and its audit events commit in one transaction (the PostgreSQL
   * store). The Mongo variant makes no such claim, so the refusal half of that step does not apply.
   */
  readonly atomicApprovals: boolean;
}

function storedState(app: RunningApp): StoredState {
  const mongo = app.services.mongo;
  if (mongo) {
    return {
      atomicApprovals: false,
      async approvalStates(tenantId, id) {
        const docs = await mongo.db
          .collection<{ approvalState: string; executionState: string }>('tenantry_approval_requests')
          .find({ tenantId, id })
          .toArray();
        return docs.map((d) => ({ approval_state: d.approvalState, execution_state: d.executionState }));
      },
      async tamperAuditEvent(tenantId, seq) {
        // A pipeline update: the stored text is the hashed body (the chain is the tenant's id).
        const r = await mongo.db.collection('tenantry_audit_events').updateOne({ chain: tenantId, seq }, [
          {
            $set: {
              text: {
                $replaceAll: { input: '$text', find: 'invoice.voided', replacement: 'invoice.viewed' },
              },
            },
          },
        ]);
        return r.modifiedCount;
      },
    };
  }
  const pool = app.services.pool;
  return {
    atomicApprovals: true,
    async approvalStates(tenantId, id) {
      const r = await pool.query(
        'SELECT approval_state, execution_state FROM tenantry_approval_requests WHERE tenant_id = $1 AND id = $2',
        [tenantId, id],
      );
      return r.rows;
    },
    async tamperAuditEvent(tenantId, seq) {
      // As the owner, with the append-only triggers bypassed.
      return inTransaction(pool, async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        const r = await tx.query(
          "UPDATE tenantry_audit_events SET body = replace(body, 'invoice.voided', 'invoice.viewed') WHERE tenant_id = $1 AND seq = $2",
          [tenantId, seq],
        );
        return r.rowCount ?? 0;
      });
    },
  };
}

/**
 * The story of issue 17 over HTTP, against an app started by `start` (embedded PGlite, PostgreSQL
 * and Redis, or those plus MongoDB for the Mongo variant's stores). Each step is a claim the app
 * makes; each would fail if the feature broke.
 */
export function storySuite(start: () => Promise<RunningApp>, perTenant: number): void {
  let app: RunningApp;
  let stored: StoredState;
  beforeAll(async () => {
    app = await start();
    stored = storedState(app);
    // A switch that makes the audit store refuse an action's events (a row in test_refused_audit_actions).
    // Installed once, while nothing is written: DDL on the audit table under traffic can deadlock with
    // the app's inserts.
    await app.services.audit.flush();
    await app.services.pool.query(`CREATE TABLE test_refused_audit_actions (action text PRIMARY KEY);
      CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF EXISTS (SELECT 1 FROM test_refused_audit_actions WHERE action = NEW.action) THEN
          RAISE EXCEPTION 'audit store refuses %', NEW.action;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_refuse_audit BEFORE INSERT ON tenantry_audit_events
        FOR EACH ROW EXECUTE FUNCTION test_refuse_audit();
      GRANT SELECT ON test_refused_audit_actions TO invoicing_app;`);
  }, 180_000);
  afterAll(async () => {
    await app?.close();
  });

  it('two tenants issue invoices concurrently; each gets 1…N with no gap and no duplicate, and a failed save consumes no number', async () => {
    const acme = await ApiClient.signIn(app, 'clerk@acme.test');
    const globex = await ApiClient.signIn(app, 'clerk@globex.test');
    const issue = (c: ApiClient, customerId: string) =>
      c.call<DocumentRow>('POST', '/ops/invoices', {
        customerId,
        amountCents: 1000,
        branch: 'web',
        issueDate: '2026-06-01',
      });
    const results = await Promise.all(
      Array.from({ length: perTenant }, (_, i) => [
        issue(acme, 'acme-wayne'),
        issue(globex, 'globex-stark'),
        // Every third round, a save that fails inside the transaction (another tenant's customer).
        ...(i % 3 === 0 ? [issue(acme, 'globex-stark')] : []),
      ]).flat(),
    );
    const failed = results.filter((r) => r.status !== 201);
    expect(failed.every((r) => r.status === 404)).toBe(true);
    expect(failed.length).toBe(Math.ceil(perTenant / 3));
    for (const [client, tenant] of [
      [acme, 'acme'],
      [globex, 'globex'],
    ] as const) {
      const docs = (await client.ok<DocumentRow[]>('GET', '/ops/invoices')).filter(
        (d) => d.series === 'invoice.web' && d.period === '2026',
      );
      expect(docs.map((d) => d.number).sort((a, b) => a - b)).toEqual(
        Array.from({ length: perTenant }, (_, i) => i + 1),
      );
      expect(new Set(docs.map((d) => d.code)).size).toBe(perTenant);
      expect(docs[0]!.code).toMatch(/^WEB-2026-\d{5}$/);
      // The sequencer's own view agrees (S2), read in the tenant's context.
      const rows = await runAsTenant({ tenantId: tenant, actor: { id: 'test' } }, () =>
        app.services.pool.query(
          "SELECT max(number)::int AS hi, count(*)::int AS n FROM app_documents WHERE tenant_id = $1 AND series = 'invoice.web' AND period = '2026'",
          [tenant],
        ),
      );
      expect(rows.rows[0]).toEqual({ hi: perTenant, n: perTenant });
    }
    // A new fiscal year restarts at 1 (S5).
    const next = await acme.ok<DocumentRow>(
      'POST',
      '/ops/invoices',
      { customerId: 'acme-wayne', amountCents: 5, branch: 'web', issueDate: '2027-01-02' },
      201,
    );
    expect(next.code).toBe('WEB-2027-00001');
  });

  it('a void needs a second person, shows as pending, keeps its number and issues a credit note', async () => {
    const clerk = await ApiClient.signIn(app, 'clerk@acme.test');
    const manager = await ApiClient.signIn(app, 'manager@acme.test');
    const inv = await clerk.ok<DocumentRow>(
      'POST',
      '/ops/invoices',
      { customerId: 'acme-tyrell', amountCents: 4200, issueDate: '2026-07-01' },
      201,
    );
    const asked = await clerk.call<{ id: string; status: string }>('POST', `/ops/invoices/${inv.id}/void`, {
      justification: 'wrong amount',
    });
    expect(asked.status).toBe(202);
    expect(asked.headers.get('location')).toBe(`/ops/approvals/${asked.body.id}`);
    expect((await clerk.ok<DocumentRow>('GET', `/ops/invoices/${inv.id}`)).status).toBe('PENDING_VOID');
    // The maker cannot approve their own request; a second void request is refused while one is pending.
    expect((await clerk.call('POST', `/ops/approvals/${asked.body.id}/approve`, {})).status).toBe(403);
    expect(
      (await clerk.call('POST', `/ops/invoices/${inv.id}/void`, { justification: 'again' })).status,
    ).toBe(409);
    // Another tenant's manager neither sees nor decides it.
    const other = await ApiClient.signIn(app, 'manager@globex.test');
    expect((await other.call('POST', `/ops/approvals/${asked.body.id}/approve`, {})).status).toBe(404);
    const inbox = await manager.ok<{ items: Array<{ id: string }> }>('GET', '/ops/approvals/inbox');
    expect(inbox.items.map((i) => i.id)).toContain(asked.body.id);
    const done = await manager.ok<{ status: string }>('POST', `/ops/approvals/${asked.body.id}/approve`, {
      comment: 'checked',
    });
    expect(done.status).toBe('EXECUTED');
    const after = await clerk.ok<DocumentRow>('GET', `/ops/invoices/${inv.id}`);
    expect(after).toMatchObject({
      status: 'VOID',
      number: inv.number,
      code: inv.code,
      voidReason: 'wrong amount',
    });
    const credits = await clerk.ok<DocumentRow[]>('GET', '/ops/credit-notes');
    const cn = credits.find((c) => c.creditsDocumentId === inv.id);
    expect(cn?.code).toMatch(/^CN-MAIN-\d{4}-\d{5}$/);
    expect(cn?.amountCents).toBe(4200);
    // A rejected deletion releases the customer's soft lock.
    const del = await clerk.call<{ id: string }>('DELETE', '/ops/customers/acme-stark', {
      justification: 'duplicate',
    });
    expect(del.status).toBe(202);
    expect((await clerk.ok<{ status: string }>('GET', '/ops/customers/acme-stark')).status).toBe(
      'PENDING_DELETION',
    );
    await manager.ok('POST', `/ops/approvals/${del.body.id}/reject`, {});
    expect((await clerk.ok<{ status: string }>('GET', '/ops/customers/acme-stark')).status).toBe('ACTIVE');
  });

  it('an approved void commits with its EXECUTED mark and every audit event of it (on the PostgreSQL store: or not at all)', async () => {
    const clerk = await ApiClient.signIn(app, 'clerk@acme.test');
    const manager = await ApiClient.signIn(app, 'manager@acme.test');
    const admin = await ApiClient.signIn(app, 'admin@acme.test');
    const pool = app.services.pool;
    const inv = await clerk.ok<DocumentRow>(
      'POST',
      '/ops/invoices',
      { customerId: 'acme-tyrell', amountCents: 1300, issueDate: '2026-08-01' },
      201,
    );
    const asked = await clerk.call<{ id: string }>('POST', `/ops/invoices/${inv.id}/void`, {
      justification: 'duplicate',
    });
    expect(asked.status).toBe(202);
    const about = (t: AuditView) =>
      t.events.filter((e) => e.targets.some((x) => x.id === inv.id || x.id === asked.body.id));
    const states = () => stored.approvalStates('acme', asked.body.id);
    // The request is kept by the configured store: PostgreSQL (also on PGlite) or MongoDB.
    expect(await states()).toEqual([{ approval_state: 'PENDING', execution_state: 'NONE' }]);
    const creditsBefore = await clerk.ok<DocumentRow[]>('GET', '/ops/credit-notes');
    if (stored.atomicApprovals) {
      // The audit store refuses the transition's last event, `approval.executed`.
      let refused: { status: number };
      await pool.query("INSERT INTO test_refused_audit_actions VALUES ('approval.executed')");
      try {
        refused = await manager.call('POST', `/ops/approvals/${asked.body.id}/approve`, {});
      } finally {
        await pool.query('DELETE FROM test_refused_audit_actions');
      }
      expect(refused.status).toBeGreaterThanOrEqual(500);
      // Nothing of it happened: no approval, no EXECUTED mark, no void, no credit note, no audit event.
      expect(await states()).toEqual([{ approval_state: 'PENDING', execution_state: 'NONE' }]);
      expect((await clerk.ok<DocumentRow>('GET', `/ops/invoices/${inv.id}`)).status).toBe('PENDING_VOID');
      const creditsAfterRefusal = await clerk.ok<DocumentRow[]>('GET', '/ops/credit-notes');
      expect(creditsAfterRefusal.map((c) => c.id).sort()).toEqual(creditsBefore.map((c) => c.id).sort());
    }
    // Not decided yet (or the refused decision left no trace).
    const trail = await admin.ok<AuditView>('GET', '/ops/audit');
    expect(about(trail).map((e) => e.action)).not.toContain('invoice.voided');
    expect(about(trail).map((e) => e.action)).not.toContain('approval.approved');
    // Decided (again, once the audit store accepts): all of it; the credit note's number follows the
    // last one (a refused attempt's allocation was rolled back with it).
    const done = await manager.ok<{ status: string }>('POST', `/ops/approvals/${asked.body.id}/approve`, {});
    expect(done.status).toBe('EXECUTED');
    expect(await states()).toEqual([{ approval_state: 'APPROVED', execution_state: 'EXECUTED' }]);
    expect((await clerk.ok<DocumentRow>('GET', `/ops/invoices/${inv.id}`)).status).toBe('VOID');
    const cn = (await clerk.ok<DocumentRow[]>('GET', '/ops/credit-notes')).find(
      (c) => c.creditsDocumentId === inv.id,
    );
    const sameSeries = creditsBefore.filter((c) => c.series === cn?.series && c.period === cn?.period);
    expect(cn?.number).toBe(Math.max(0, ...sameSeries.map((c) => c.number)) + 1);
    const actions = about(await admin.ok<AuditView>('GET', '/ops/audit')).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['approval.approved', 'approval.executed', 'invoice.voided']),
    );
  });

  it('provider credentials are sealed per tenant and field: no plaintext in the database, and a copied ciphertext does not open elsewhere', async () => {
    const admin = await ApiClient.signIn(app, 'admin@acme.test');
    const views = await admin.ok<Array<{ kind: string; configured: boolean; fingerprint: string }>>(
      'PUT',
      '/back-office/settings/providers/email',
      { provider: 'postmark', secret: 'pm-secret-acme-123' },
    );
    expect(views.find((v) => v.kind === 'email')).toMatchObject({ configured: true });
    const raw = await app.services.pool.query(
      "SELECT providers::text AS p FROM app_tenant_settings WHERE tenant_id = 'acme'",
    );
    expect(raw.rows[0].p).not.toContain('pm-secret-acme-123');
    expect(raw.rows[0].p).toContain('tcf1:');
    // A manager cannot change credentials.
    const manager = await ApiClient.signIn(app, 'manager@acme.test');
    expect(
      (await manager.call('PUT', '/back-office/settings/providers/sms', { provider: 'x', secret: 'y' }))
        .status,
    ).toBe(403);
    // Copy acme's sealed credential into globex's settings: globex cannot open it.
    await app.services.pool.query(
      "INSERT INTO app_tenant_settings (tenant_id, providers, updated_by) SELECT 'globex', providers, 'test' FROM app_tenant_settings WHERE tenant_id = 'acme'",
    );
    const globex = await ApiClient.signIn(app, 'admin@globex.test');
    const r = await globex.call<{ code: string }>('GET', '/back-office/settings/providers');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body.code).toMatch(/^CRYPTO_/);
  });

  it('emails count against the plan’s daily quota (starter: 5 a day)', async () => {
    const clerk = await ApiClient.signIn(app, 'clerk@initech.test');
    const inv = await clerk.ok<DocumentRow>(
      'POST',
      '/ops/invoices',
      { customerId: 'initech-wayne', amountCents: 100 },
      201,
    );
    for (let i = 1; i <= 5; i++) {
      expect(await clerk.ok('POST', `/ops/invoices/${inv.id}/email`, {})).toEqual({
        emailsUsedToday: i,
        limit: 5,
      });
    }
    const over = await clerk.call<{ code: string }>('POST', `/ops/invoices/${inv.id}/email`, {});
    expect([over.status, over.body.code]).toEqual([429, 'QUOTA_EXCEEDED']);
    const admin = await ApiClient.signIn(app, 'admin@initech.test');
    expect(
      (await admin.ok<{ emailsUsedToday: number }>('GET', '/back-office/settings')).emailsUsedToday,
    ).toBe(5);
  });

  it('an impersonation needs a reason, shows in the tenant’s trail naming both people, and notifies the tenant', async () => {
    const root = await ApiClient.signIn(app, 'root@platform.test');
    const users = await app.services.pool.query("SELECT id FROM app_users WHERE email = 'clerk@globex.test'");
    const userId = users.rows[0].id as string;
    const short = await root.call<{ code: string }>('POST', '/sys-mgt/impersonations', {
      tenantId: 'globex',
      userId,
      reason: 'hi',
    });
    expect([short.status, short.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    // Tenant staff cannot impersonate (system segment).
    const admin = await ApiClient.signIn(app, 'admin@globex.test');
    expect(
      (
        await admin.call('POST', '/sys-mgt/impersonations', {
          tenantId: 'globex',
          userId,
          reason: 'ticket 42: totals wrong',
        })
      ).status,
    ).toBe(403);
    const imp = await root.ok<{ token: string }>(
      'POST',
      '/sys-mgt/impersonations',
      { tenantId: 'globex', userId, reason: 'ticket 42: totals wrong' },
      201,
    );
    const support = new ApiClient(app.url, imp.token);
    const me = await support.ok<{ tenantId: string; actor: { id: string }; impersonator: { id: string } }>(
      'GET',
      '/ops/me',
    );
    expect(me.tenantId).toBe('globex');
    expect(me.actor.id).toBe(userId);
    expect(me.impersonator.id).toMatch(/root-platform/);
    await support.ok('POST', '/ops/invoices', { customerId: 'globex-wayne', amountCents: 777 }, 201);
    const notes = await admin.ok<Array<{ kind: string; data: { reason?: string } }>>(
      'GET',
      '/ops/notifications',
    );
    expect(notes[0]).toMatchObject({
      kind: 'impersonation.started',
      data: { reason: 'ticket 42: totals wrong' },
    });
    const trail = await admin.ok<AuditView>('GET', '/ops/audit');
    expect(trail.events.some((e) => e.action === 'impersonation.started')).toBe(true);
    const issued = trail.events.find((e) => e.action === 'invoice.issued' && e.impersonator);
    expect(issued?.actor.id).toBe(userId);
    expect(issued?.impersonator?.id).toBe(me.impersonator.id);
    // Acme's trail knows nothing of it.
    const acme = await ApiClient.signIn(app, 'admin@acme.test');
    expect((await acme.ok<unknown[]>('GET', '/ops/notifications')).length).toBe(0);
  });

  it('a suspended tenant cannot sign in, and its open sessions are refused; resumed, it can', async () => {
    const root = await ApiClient.signIn(app, 'root@platform.test');
    const session = await ApiClient.signIn(app, 'clerk@initech.test');
    await root.ok('POST', '/sys-mgt/tenants/initech/transition', {
      to: 'SUSPENDED',
      reason: 'payment overdue',
    });
    expect(await trySignIn(app.url, 'clerk@initech.test', 'demo-password')).toEqual({
      status: 403,
      code: 'TENANT_SUSPENDED',
    });
    expect((await session.call<{ code: string }>('GET', '/ops/invoices')).body.code).toBe('TENANT_SUSPENDED');
    // Other tenants are untouched.
    expect((await trySignIn(app.url, 'clerk@globex.test', 'demo-password')).status).toBe(200);
    await root.ok('POST', '/sys-mgt/tenants/initech/transition', { to: 'ACTIVE', reason: 'paid' });
    expect((await trySignIn(app.url, 'clerk@initech.test', 'demo-password')).status).toBe(200);
  });

  it('repeated wrong passwords lock the account, even against the right password', async () => {
    for (let i = 0; i < 5; i++)
      expect((await trySignIn(app.url, 'manager@initech.test', 'wrong')).status).toBe(401);
    expect(await trySignIn(app.url, 'manager@initech.test', 'demo-password')).toEqual({
      status: 423,
      code: 'HTTP_ACCOUNT_LOCKED',
    });
    expect((await trySignIn(app.url, 'admin@initech.test', 'demo-password')).status).toBe(200);
  });

  it('global maintenance blocks writes for everyone but super admins; reads go on', async () => {
    const root = await ApiClient.signIn(app, 'root@platform.test');
    const clerk = await ApiClient.signIn(app, 'clerk@globex.test');
    await root.ok('PUT', '/sys-mgt/settings', { maintenance: true });
    try {
      const w = await clerk.call<{ code: string }>('POST', '/ops/customers', { name: 'New Co' });
      expect(w.body.code).toBe('MAINTENANCE_GLOBAL');
      await clerk.ok('GET', '/ops/invoices');
    } finally {
      await root.ok('PUT', '/sys-mgt/settings', { maintenance: false });
    }
    await clerk.ok('POST', '/ops/customers', { name: 'New Co' }, 201);
  });

  it('a snapshot and restore of one tenant brings it back and leaves the other tenants byte-identical; every app table is covered', async () => {
    await snapshotRestoreStep(app);
  });

  it('the audit chain verifies with a signed checkpoint, an outsider can check the export, and an altered row is caught', async () => {
    const admin = await ApiClient.signIn(app, 'admin@acme.test');
    const before = await admin.ok<AuditView>('GET', '/ops/audit');
    expect(before.verified.ok).toBe(true);
    expect(before.verified.checked).toBeGreaterThan(10);
    expect(before.checkpoint?.signature).toMatch(/^[0-9a-f]{128}$/);
    expect(before.events.some((e) => e.action === 'invoice.voided')).toBe(true);
    // An outsider with the public key checks the exported trail; an edited export fails (old walk, step 6).
    const lines: string[] = [];
    await runAsTenant({ tenantId: 'acme', actor: { id: 'auditor' } }, async () => {
      for await (const line of app.services.audit.exportTrail()) lines.push(line);
    });
    const keys = { publicKeys: [app.services.config.audit.publicKey] };
    expect((await verifyExport(lines, keys)).ok).toBe(true);
    const edited = lines.map((l) => l.replace('invoice.voided', 'invoice.viewed'));
    expect(edited).not.toEqual(lines);
    expect((await verifyExport(edited, keys)).ok).toBe(false);
    // Alter one stored event where the audit store keeps it (PostgreSQL or MongoDB).
    const victim = before.events.find((e) => e.action === 'invoice.voided')!;
    expect(await stored.tamperAuditEvent('acme', victim.seq)).toBe(1);
    const after = await admin.ok<AuditView>('GET', '/ops/audit');
    expect(after.verified.ok).toBe(false);
    expect(after.verified.firstBadSeq).toBe(victim.seq);
    // Another tenant's chain still verifies.
    const globex = await ApiClient.signIn(app, 'admin@globex.test');
    expect((await globex.ok<AuditView>('GET', '/ops/audit')).verified.ok).toBe(true);
  });
}

/**
 * The story's snapshot step: snapshot acme, change acme and globex, restore acme; acme is back
 * byte for byte, the others keep their later work; then a GDPR export and the coverage check.
 * @returns the snapshot's id (the S3 test looks for its objects in the bucket)
 */
export async function snapshotRestoreStep(app: RunningApp): Promise<{ snapshotId: string }> {
  const dump = async (tenant: string) => {
    const out: string[] = [];
    for (const t of app.services.vault.tenantTables) {
      const r = await app.services.pool.query(
        `SELECT row_to_json(x)::text AS j FROM ${t} x WHERE tenant_id = $1 ORDER BY row_to_json(x)::text`,
        [tenant],
      );
      out.push(`${t}:${r.rows.map((row) => row.j).join('|')}`);
    }
    return out.join('\n');
  };
  const admin = await ApiClient.signIn(app, 'admin@acme.test');
  const snap = await admin.ok<{ snapshotId: string }>('POST', '/back-office/snapshots', undefined, 201);
  const acmeBefore = await dump('acme');
  const othersBefore = [await dump('globex'), await dump('initech')];
  // After the snapshot: a new customer and invoice in acme, and new work in globex.
  const clerk = await ApiClient.signIn(app, 'clerk@acme.test');
  const c = await clerk.ok<{ id: string }>('POST', '/ops/customers', { name: 'Late Co' }, 201);
  await clerk.ok('POST', '/ops/invoices', { customerId: c.id, amountCents: 99 }, 201);
  expect(await dump('acme')).not.toBe(acmeBefore);
  const globex = await ApiClient.signIn(app, 'clerk@globex.test');
  await globex.ok('POST', '/ops/customers', { name: 'Globex Late Co' }, 201);
  const othersAfterWork = [await dump('globex'), await dump('initech')];
  expect(othersAfterWork).not.toEqual(othersBefore);
  // A clerk cannot restore.
  expect((await clerk.call('POST', `/back-office/snapshots/${snap.snapshotId}/restore`)).status).toBe(403);
  const report = await admin.ok<{ modules: Array<{ name: string; records: number }> }>(
    'POST',
    `/back-office/snapshots/${snap.snapshotId}/restore`,
  );
  expect(report.modules.map((m) => m.name)).toContain('app_documents');
  expect(await dump('acme')).toBe(acmeBefore);
  expect([await dump('globex'), await dump('initech')]).toEqual(othersAfterWork);
  // The tenant is out of maintenance again, and the GDPR export lists its records.
  await clerk.ok('POST', '/ops/customers', { name: 'After Restore' }, 201);
  const exported = await admin.ok<{ modules: Array<{ name: string; records: number }> }>(
    'POST',
    '/back-office/exports',
  );
  expect(exported.modules.find((m) => m.name === 'app_customers')?.records).toBeGreaterThan(0);
  // V5: every tenant-scoped app table is exported by a module.
  const coverage = await app.services.vault.coverage();
  expect(coverage.gaps).toEqual([]);
  expect(
    coverage.entries
      .filter((e) => !e.ignored)
      .map((e) => e.name)
      .sort(),
  ).toEqual(app.services.vault.tenantTables.map((t) => `public.${t}`).sort());
  return { snapshotId: snap.snapshotId };
}
