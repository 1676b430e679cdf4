import { isTenantryError } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { type VaultModule, createModuleRegistry, declarationOf } from '../src/index.js';

const mod = (name: string, dependsOn: string[] = [], schemaVersion = 1): VaultModule => ({
  name,
  schemaVersion,
  dependsOn,
  export: async function* () {},
  import: async () => undefined,
  clean: async () => undefined,
});

function codeOf(fn: () => unknown): { code: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    if (isTenantryError(error)) return { code: error.code, details: { ...error.details } };
    throw error;
  }
  throw new Error('did not throw');
}

describe('module registry (V4)', () => {
  it('orders dependencies before dependents, ties in registration order', () => {
    const r = createModuleRegistry();
    r.register(
      mod('messaging', ['contacts']),
      mod('tasks', ['users']),
      mod('users'),
      mod('contacts', ['users']),
    );
    const names = r.ordered().map((m) => m.name);
    expect(names).toEqual(['users', 'tasks', 'contacts', 'messaging']);
    for (const m of r.ordered())
      for (const d of m.dependsOn ?? []) expect(names.indexOf(d)).toBeLessThan(names.indexOf(m.name));
  });

  it('accepts modules registered in later calls that depend on earlier ones', () => {
    const r = createModuleRegistry([mod('users')]);
    r.register(mod('tasks', ['users']));
    r.register(mod('comments', ['tasks', 'users']));
    expect(r.ordered().map((m) => m.name)).toEqual(['users', 'tasks', 'comments']);
  });

  it('rejects an unknown dependency with a typed error naming both, and registers nothing of the batch', () => {
    const r = createModuleRegistry([mod('users')]);
    const e = codeOf(() => r.register(mod('tasks', ['users']), mod('invoices', ['customers'])));
    expect(e).toEqual({
      code: 'VAULT_MODULE_UNKNOWN_DEPENDENCY',
      details: { module: 'invoices', dependency: 'customers' },
    });
    expect(r.get('tasks')).toBeUndefined();
    expect(r.ordered().map((m) => m.name)).toEqual(['users']);
  });

  it.each([
    [[mod('a', ['a'])], ['a', 'a']],
    [
      [mod('a', ['b']), mod('b', ['a'])],
      ['a', 'b', 'a'],
    ],
    [
      [mod('x'), mod('a', ['x', 'c']), mod('b', ['a']), mod('c', ['b'])],
      ['a', 'c', 'b', 'a'],
    ],
  ])('rejects a cycle and names it (%#)', (batch, cycle) => {
    const r = createModuleRegistry();
    const e = codeOf(() => r.register(...batch));
    expect(e.code).toBe('VAULT_MODULE_CYCLE');
    expect(e.details.cycle).toEqual(cycle);
    expect(r.ordered()).toEqual([]);
  });

  it('rejects a duplicate name', () => {
    const r = createModuleRegistry([mod('users')]);
    expect(codeOf(() => r.register(mod('users'))).code).toBe('VAULT_MODULE_DUPLICATE');
    expect(codeOf(() => createModuleRegistry([mod('a'), mod('a')])).code).toBe('VAULT_MODULE_DUPLICATE');
  });

  it.each([
    { ...mod('Bad Name') },
    { ...mod('ok'), schemaVersion: 0 },
    { ...mod('ok'), export: 'nope' },
    { ...mod('ok'), dependsOn: 'users' },
    null,
    42,
  ])('rejects a malformed declaration with VALIDATION_FAILED (%#)', (bad) => {
    const r = createModuleRegistry();
    expect(codeOf(() => r.register(bad as unknown as VaultModule)).code).toBe('VALIDATION_FAILED');
  });

  it('declaration checksums change with the schema version and dependencies, not with order of dependsOn', () => {
    const a = declarationOf(mod('t', ['a', 'b'], 1));
    expect(declarationOf(mod('t', ['b', 'a'], 1)).checksum).toBe(a.checksum);
    expect(declarationOf(mod('t', ['a', 'b'], 2)).checksum).not.toBe(a.checksum);
    expect(declarationOf(mod('t', ['a'], 1)).checksum).not.toBe(a.checksum);
    expect(a.checksum).toMatch(/^[0-9a-f]{64}$/);
  });
});
