import { runAsSystem, runAsTenant } from '../kernel/context.js';
import { isTenantryError } from '../kernel/errors.js';
import { MemoryAuditPort } from '../kernel/ports/audit-port.js';
import type { SuiteApi } from './suite-api.js';

/** One public operation of a package that acts for a tenant, as the isolation suite drives it. */
export interface TenantScopedOperation {
  /** A short name for the test titles, e.g. `'audit.query'`. */
  readonly name: string;
  /**
   * Call the operation for `tenantId` (named explicitly in the call), or with no tenant named when
   * `tenantId` is `undefined` (the operation then takes the tenant from the context). It must create
   * what it needs itself (idempotently), so it can run in any order and any number of times.
   */
  call(tenantId: string | undefined): Promise<unknown>;
}

/** What {@link tenantIsolationConformance} needs from a package. */
export interface TenantIsolationHarness {
  /** Two distinct tenant ids the operations may act for. */
  readonly tenants: readonly [string, string];
  /** Every public operation of the package that takes a tenant (explicitly or from the context). */
  readonly operations: readonly TenantScopedOperation[];
}

const ISOLATION_CODES = new Set([
  'TENANT_CONTEXT_CONFLICT',
  'TENANT_CONTEXT_MISSING',
  'SYSTEM_SCOPE_REQUIRED',
]);

async function settle(p: () => Promise<unknown>): Promise<string> {
  try {
    await p();
    return 'resolved';
  } catch (e) {
    return isTenantryError(e) ? e.code : `untyped: ${String(e)}`;
  }
}

const actor = { id: 'isolation-suite', roles: ['TENANT_ADMIN'] };

/**
 * Invariant T1 against a package's own public API: inside tenant A, naming B is refused
 * (`TENANT_CONTEXT_CONFLICT`); with no context, naming a tenant or omitting it is refused
 * (`TENANT_CONTEXT_MISSING`); inside tenant A, omitting the tenant or naming A works; inside the
 * system scope, naming a tenant works and the scope's entry is audited first.
 * @example
 * tenantIsolationConformance(() => ({ tenants: ['a', 'b'], operations }), { describe, it, expect });
 */
export function tenantIsolationConformance(harness: () => TenantIsolationHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;
  describe('tenant isolation (T1)', () => {
    it('inside tenant A, naming tenant B is refused with TENANT_CONTEXT_CONFLICT', async () => {
      const { tenants, operations } = harness();
      const [a, b] = tenants;
      for (const op of operations) {
        const code = await runAsTenant({ tenantId: a, actor }, () => settle(() => op.call(b)));
        expect(`${op.name}: ${code}`).toBe(`${op.name}: TENANT_CONTEXT_CONFLICT`);
      }
    });
    it('with no context, naming a tenant or omitting it is refused with TENANT_CONTEXT_MISSING', async () => {
      const { tenants, operations } = harness();
      for (const op of operations) {
        expect(`${op.name}: ${await settle(() => op.call(tenants[1]))}`).toBe(
          `${op.name}: TENANT_CONTEXT_MISSING`,
        );
        expect(`${op.name}: ${await settle(() => op.call(undefined))}`).toBe(
          `${op.name}: TENANT_CONTEXT_MISSING`,
        );
      }
    });
    it('inside tenant A, omitting the tenant or naming A is not refused for isolation', async () => {
      const { tenants, operations } = harness();
      for (const op of operations) {
        for (const named of [undefined, tenants[0]]) {
          const code = await runAsTenant({ tenantId: tenants[0], actor }, () => settle(() => op.call(named)));
          expect(`${op.name}: ${ISOLATION_CODES.has(code) || code.startsWith('untyped') ? code : 'ok'}`).toBe(
            `${op.name}: ok`,
          );
        }
      }
    });
    it('inside the system scope, naming a tenant is allowed, and the scope was audited before it ran', async () => {
      const { tenants, operations } = harness();
      for (const op of operations) {
        const audit = new MemoryAuditPort();
        const code = await runAsSystem(
          { actor: { id: 'ops', kind: 'service' }, reason: 'isolation suite' },
          audit,
          () => {
            expect(audit.events.map((e) => e.action)).toEqual(['system_scope.entered']);
            return settle(() => op.call(tenants[1]));
          },
        );
        expect(`${op.name}: ${ISOLATION_CODES.has(code) || code.startsWith('untyped') ? code : 'ok'}`).toBe(
          `${op.name}: ok`,
        );
        expect(audit.events.map((e) => e.action)).toEqual(['system_scope.entered', 'system_scope.exited']);
      }
    });
  });
}
