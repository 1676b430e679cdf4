import type { ApprovalEngine } from '@tenantry/approvals';
import { parseInput, requireTenant, resolveTenantSettings, uuidv7 } from '@tenantry/core';
import { defineSeries } from '@tenantry/sequencer';
import type { PgUnitOfWorkClient } from '@tenantry/core';
import { z } from 'zod';
import { InvoicingError } from './errors.js';
import { type Services, settingsRegistry } from './services.js';

/** Points of sale: each has its own invoice and credit-note series, restarting every fiscal year. */
export const BRANCHES = ['main', 'web'] as const;
export type Branch = (typeof BRANCHES)[number];

// Series are defined once with no tenant: each allocation takes the tenant from the request's context.
const invoiceSeries = Object.fromEntries(
  BRANCHES.map((b) => [
    b,
    defineSeries({
      key: `invoice.${b}`,
      period: 'yearly',
      format: '{prefix}{yyyy}-{n:05}',
      prefix: `${b.toUpperCase()}-`,
    }),
  ]),
) as Record<Branch, ReturnType<typeof defineSeries>>;
const creditSeries = Object.fromEntries(
  BRANCHES.map((b) => [
    b,
    defineSeries({
      key: `credit.${b}`,
      period: 'yearly',
      format: '{prefix}{yyyy}-{n:05}',
      prefix: `CN-${b.toUpperCase()}-`,
    }),
  ]),
) as Record<Branch, ReturnType<typeof defineSeries>>;

export const NewCustomerSchema = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320).optional(),
});
export const NewInvoiceSchema = z.object({
  customerId: z.string().min(1).max(64),
  amountCents: z.coerce.number().int().positive().max(1_000_000_000_00),
  branch: z.enum(BRANCHES).default('main'),
  /** ISO date; the fiscal year (the series' period) comes from it. @default today (UTC) */
  issueDate: z.iso.date().optional(),
});

export interface Customer {
  id: string;
  name: string;
  email: string | null;
  status: 'ACTIVE' | 'PENDING_DELETION' | 'DELETED';
}
export interface DocumentRow {
  id: string;
  kind: 'INVOICE' | 'CREDIT_NOTE';
  series: string;
  period: string;
  number: number;
  code: string;
  customerId: string;
  issueDate: string;
  amountCents: number;
  status: 'ISSUED' | 'PENDING_VOID' | 'VOID';
  creditsDocumentId: string | null;
  voidReason: string | null;
  createdBy: string;
}

const toDoc = (r: Record<string, unknown>): DocumentRow => ({
  id: String(r.id),
  kind: r.kind as DocumentRow['kind'],
  series: String(r.series),
  period: String(r.period),
  number: Number(r.number),
  code: String(r.code),
  customerId: String(r.customer_id),
  issueDate:
    r.issue_date instanceof Date
      ? r.issue_date.toISOString().slice(0, 10)
      : String(r.issue_date).slice(0, 10),
  amountCents: Number(r.amount_cents),
  status: r.status as DocumentRow['status'],
  creditsDocumentId: (r.credits_document_id as string | null) ?? null,
  voidReason: (r.void_reason as string | null) ?? null,
  createdBy: String(r.created_by),
});

const DOC_COLUMNS =
  "id, kind, series, period, number, code, customer_id, to_char(issue_date, 'YYYY-MM-DD') AS issue_date, amount_cents, status, credits_document_id, void_reason, created_by";

/**
 * Customers and documents of the tenant in context. Every statement runs in a unit of work of the
 * tenant pool (`s.uow`: the tenant set for its transaction, row-level security on), and still names
 * the tenant (T1): the policy is the boundary, the filter keeps the queries' intent readable.
 */
export function createDocuments(s: Services) {
  const db = s.uow;
  const tenant = () => requireTenant().tenantId;
  const api = {
    async listCustomers(): Promise<Customer[]> {
      const r = await db.query<Customer>(
        "SELECT id, name, email, status FROM app_customers WHERE tenant_id = $1 AND status <> 'DELETED' ORDER BY name, id",
        [tenant()],
      );
      return r.rows;
    },
    async getCustomer(id: string): Promise<Customer> {
      const r = await db.query(
        'SELECT id, name, email, status FROM app_customers WHERE tenant_id = $1 AND id = $2',
        [tenant(), id],
      );
      const c = r.rows[0] as Customer | undefined;
      if (!c || c.status === 'DELETED') throw new InvoicingError('INVOICING_NOT_FOUND', 'No such customer');
      return c;
    },
    async createCustomer(input: unknown): Promise<Customer> {
      const c = parseInput(NewCustomerSchema, input, 'customer');
      const id = uuidv7();
      await db.query('INSERT INTO app_customers (tenant_id, id, name, email) VALUES ($1, $2, $3, $4)', [
        tenant(),
        id,
        c.name,
        c.email ?? null,
      ]);
      await s.audit.recordInContext({
        action: 'customer.created',
        targets: [{ type: 'customer', id }],
        outcome: 'success',
      });
      return { id, name: c.name, email: c.email ?? null, status: 'ACTIVE' };
    },
    async listDocuments(kind?: DocumentRow['kind']): Promise<DocumentRow[]> {
      const r = await db.query(
        `SELECT ${DOC_COLUMNS} FROM app_documents WHERE tenant_id = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY created_at DESC, id DESC`,
        [tenant(), kind ?? null],
      );
      return r.rows.map(toDoc);
    },
    async getDocument(id: string): Promise<DocumentRow> {
      const r = await db.query(`SELECT ${DOC_COLUMNS} FROM app_documents WHERE tenant_id = $1 AND id = $2`, [
        tenant(),
        id,
      ]);
      if (!r.rows[0]) throw new InvoicingError('INVOICING_NOT_FOUND', 'No such document');
      return toDoc(r.rows[0]);
    },
    /**
     * Issue an invoice: the number is allocated by the sequencer in the transaction that inserts the
     * document, so both commit or neither does (no gap, no duplicate).
     */
    async issueInvoice(input: unknown): Promise<DocumentRow> {
      const inv = parseInput(NewInvoiceSchema, input, 'invoice');
      const { tenantId, actor } = requireTenant();
      const issueDate = inv.issueDate ?? new Date().toISOString().slice(0, 10);
      const doc = await s.uow.run(async (tx) => {
        const c = await tx.query('SELECT status FROM app_customers WHERE tenant_id = $1 AND id = $2', [
          tenantId,
          inv.customerId,
        ]);
        if (c.rows[0]?.status !== 'ACTIVE')
          throw new InvoicingError('INVOICING_NOT_FOUND', 'No such active customer');
        const n = await s.sequencer.next(invoiceSeries[inv.branch], { tx, issueDate });
        const r = await tx.query(
          `INSERT INTO app_documents (tenant_id, id, kind, series, period, number, code, customer_id, issue_date, amount_cents, status, created_by)
           VALUES ($1, $2, 'INVOICE', $3, $4, $5, $6, $7, $8, $9, 'ISSUED', $10) RETURNING ${DOC_COLUMNS}`,
          [
            tenantId,
            uuidv7(),
            n.series,
            n.period,
            n.number,
            n.formatted,
            inv.customerId,
            issueDate,
            inv.amountCents,
            actor.id,
          ],
        );
        return toDoc(r.rows[0] as Record<string, unknown>);
      });
      await s.audit.recordInContext({
        action: 'invoice.issued',
        targets: [{ type: 'invoice', id: doc.id }],
        outcome: 'success',
        metadata: { code: doc.code, amountCents: doc.amountCents },
      });
      return doc;
    },
    /** Queue an email of the document: counts against the tenant's daily email quota (core). */
    async emailDocument(
      id: string,
      recipient: string | undefined,
    ): Promise<{ emailsUsedToday: number; limit: number | null }> {
      const config = await s.configSource.get();
      if (config && !resolveTenantSettings(settingsRegistry, config).get('feature.email-invoices')) {
        throw new InvoicingError('INVOICING_FEATURE_OFF', 'Emailing invoices is switched off');
      }
      const doc = await api.getDocument(id);
      const to = recipient ?? (await api.getCustomer(doc.customerId)).email;
      if (!to) throw new InvoicingError('INVOICING_INVALID_STATE', 'The customer has no email address');
      const used = await s.quotas.consume('emails'); // QUOTA_EXCEEDED (429) past the plan's daily limit
      await db.query(
        'INSERT INTO app_email_outbox (tenant_id, id, document_id, recipient) VALUES ($1, $2, $3, $4)',
        [tenant(), uuidv7(), doc.id, to],
      );
      await s.audit.recordInContext({
        action: 'invoice.emailed',
        targets: [{ type: 'invoice', id: doc.id }],
        outcome: 'success',
      });
      return { emailsUsedToday: used.used, limit: used.limit };
    },
  };
  return api;
}
export type Documents = ReturnType<typeof createDocuments>;

/**
 * The approval-guarded actions: voiding an invoice (keeps its number, issues a credit note) and
 * deleting a customer. The soft lock shows the pending state on the resource itself.
 */
export function registerApprovalActions(s: Services, engine: ApprovalEngine): void {
  // The transaction is the decision's unit of work (approval-tx.ts); without one, a unit of its own.
  const withTx = <T>(transaction: unknown, fn: (tx: PgUnitOfWorkClient) => Promise<T>): Promise<T> =>
    transaction === undefined ? s.uow.run(fn) : fn(transaction as PgUnitOfWorkClient);

  engine.registerResource('invoice', {
    lock: ({ transaction, tenantId, resource }) =>
      withTx(transaction, async (tx) => {
        const r = await tx.query(
          "UPDATE app_documents SET status = 'PENDING_VOID' WHERE tenant_id = $1 AND id = $2 AND kind = 'INVOICE' AND status = 'ISSUED'",
          [tenantId, resource.id],
        );
        if (r.rowCount !== 1)
          throw new InvoicingError('INVOICING_INVALID_STATE', 'Only an issued invoice can be voided');
      }),
    unlock: ({ transaction, tenantId, resource }) =>
      withTx(transaction, async (tx) => {
        await tx.query(
          "UPDATE app_documents SET status = 'ISSUED' WHERE tenant_id = $1 AND id = $2 AND status = 'PENDING_VOID'",
          [tenantId, resource.id],
        );
      }),
  });
  engine.registerAction('invoice.void', {
    // On PostgreSQL: runs once, in the transaction that marks the request EXECUTED; its audit event
    // goes in it too. On the Mongo store (not transactional) it may run again after a crash between
    // this commit and the mark: a second run finds the invoice VOID and its credit note, and adds none.
    execute: async ({ transaction, tenantId, request }) => {
      const credit = await withTx(transaction, async (tx) => {
        const r = await tx.query(
          `SELECT ${DOC_COLUMNS} FROM app_documents WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
          [tenantId, request.resource.id],
        );
        const inv = r.rows[0] ? toDoc(r.rows[0]) : undefined;
        if (inv?.kind === 'INVOICE' && inv.status === 'VOID') {
          // The row lock above orders two runs: the later one sees the earlier one's credit note.
          const prior = await tx.query(
            `SELECT ${DOC_COLUMNS} FROM app_documents WHERE tenant_id = $1 AND kind = 'CREDIT_NOTE' AND credits_document_id = $2`,
            [tenantId, inv.id],
          );
          if (prior.rows[0]) return toDoc(prior.rows[0]);
        }
        if (inv?.kind !== 'INVOICE' || inv.status === 'VOID') {
          throw new InvoicingError('INVOICING_INVALID_STATE', 'The invoice is not voidable');
        }
        const branch = inv.series.split('.')[1] as Branch;
        const reason = request.justification ?? 'voided';
        const issueDate = new Date().toISOString().slice(0, 10);
        const n = await s.sequencer.next(creditSeries[branch], { tx, issueDate });
        const cn = await tx.query(
          `INSERT INTO app_documents (tenant_id, id, kind, series, period, number, code, customer_id, issue_date, amount_cents, status, credits_document_id, created_by)
           VALUES ($1, $2, 'CREDIT_NOTE', $3, $4, $5, $6, $7, $8, $9, 'ISSUED', $10, $11) RETURNING ${DOC_COLUMNS}`,
          [
            tenantId,
            uuidv7(),
            n.series,
            n.period,
            n.number,
            n.formatted,
            inv.customerId,
            issueDate,
            inv.amountCents,
            inv.id,
            request.makerId,
          ],
        );
        // Void is a state: the number stays taken, and the sequencer records why.
        await tx.query(
          "UPDATE app_documents SET status = 'VOID', void_reason = $3 WHERE tenant_id = $1 AND id = $2",
          [tenantId, inv.id, reason],
        );
        await s.sequencer.void(invoiceSeries[branch], inv.number, {
          tx,
          reason,
          issueDate: inv.issueDate,
        });
        return toDoc(cn.rows[0] as Record<string, unknown>);
      });
      await s.transitionAudit.recordInContext({
        action: 'invoice.voided',
        targets: [
          { type: 'invoice', id: request.resource.id },
          { type: 'credit_note', id: credit.id },
        ],
        outcome: 'success',
        metadata: { creditNote: credit.code, approvalRequest: request.id },
      });
    },
  });

  engine.registerResource('customer', {
    lock: ({ transaction, tenantId, resource }) =>
      withTx(transaction, async (tx) => {
        const r = await tx.query(
          "UPDATE app_customers SET status = 'PENDING_DELETION' WHERE tenant_id = $1 AND id = $2 AND status = 'ACTIVE'",
          [tenantId, resource.id],
        );
        if (r.rowCount !== 1)
          throw new InvoicingError('INVOICING_INVALID_STATE', 'Only an active customer can be deleted');
      }),
    unlock: ({ transaction, tenantId, resource }) =>
      withTx(transaction, async (tx) => {
        await tx.query(
          "UPDATE app_customers SET status = 'ACTIVE' WHERE tenant_id = $1 AND id = $2 AND status = 'PENDING_DELETION'",
          [tenantId, resource.id],
        );
      }),
  });
  engine.registerAction('customer.delete', {
    execute: async ({ transaction, tenantId, request }) => {
      await withTx(transaction, async (tx) => {
        // Soft delete: the customer's invoices keep pointing at it.
        await tx.query("UPDATE app_customers SET status = 'DELETED' WHERE tenant_id = $1 AND id = $2", [
          tenantId,
          request.resource.id,
        ]);
      });
      await s.transitionAudit.recordInContext({
        action: 'customer.deleted',
        targets: [{ type: 'customer', id: request.resource.id }],
        outcome: 'success',
      });
    },
  });
}

/** The policies a new tenant starts with; the tenant admin edits them on the settings page. */
export const DEFAULT_POLICIES = [
  { action: 'invoice.void', approvalsRequired: 1, approverRoles: ['TENANT_ADMIN', 'MANAGER'] },
  { action: 'customer.delete', approvalsRequired: 1, approverRoles: ['TENANT_ADMIN', 'MANAGER'] },
];
