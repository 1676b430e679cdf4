// Attacks on runAsTenant's fast path (actors from parseActor enter without a second zod parse): objects
// that look parsed but are not, a parsed actor altered afterwards, a context whose fields answer one
// value to the check and another later, and actors from another realm. Each must end with a valid
// tenant id and actor in the context, or VALIDATION_FAILED.
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseActor, requireTenant, runAsTenant } from '../src/index.js';

const refused = expect.objectContaining({ code: 'VALIDATION_FAILED' });

describe('runAsTenant fast path, hostile actors and contexts', () => {
  it('a parsed actor cannot be altered afterwards (frozen deep): its roles stay as parsed', () => {
    const actor = parseActor({ id: 'u1', roles: ['MANAGER'] });
    expect(() => (actor.roles as string[]).push('SUPER_ADMIN')).toThrow(TypeError);
    expect(() => Object.assign(actor, { id: '' })).toThrow(TypeError);
    expect(() => Object.defineProperty(actor, 'kind', { value: 'system' })).toThrow(TypeError);
    runAsTenant({ tenantId: 'acme', actor }, () => {
      expect(requireTenant().actor).toEqual({ id: 'u1', roles: ['MANAGER'], kind: 'user' });
    });
  });

  it('a Proxy is never taken as a parsed actor: it is parsed, and a lying one refused', () => {
    const actor = parseActor({ id: 'u1', roles: ['MANAGER'] });
    // Around the frozen actor itself a proxy cannot lie (the engine enforces the target's values), so
    // around an unfrozen copy of it:
    const lying = new Proxy(
      { ...actor },
      { get: (t, k) => (k === 'id' ? '' : k === 'roles' ? ['SUPER_ADMIN', 42] : Reflect.get(t, k)) },
    );
    expect(() => runAsTenant({ tenantId: 'acme', actor: lying }, () => 1)).toThrowError(refused);
    const escalating = new Proxy(actor, { getPrototypeOf: () => Object.prototype });
    // Parsed like any plain object: the context holds a frozen copy, never the proxy.
    runAsTenant({ tenantId: 'acme', actor: escalating }, () => {
      expect(requireTenant().actor).not.toBe(escalating);
      expect(Object.isFrozen(requireTenant().actor.roles)).toBe(true);
      expect(requireTenant().actor).toEqual({ id: 'u1', roles: ['MANAGER'], kind: 'user' });
    });
  });

  it('a context whose tenantId getter answers a valid id once and an invalid one after enters the valid one', () => {
    const actor = parseActor({ id: 'u1' });
    let reads = 0;
    const context = {
      actor,
      get tenantId() {
        reads++;
        return reads === 1 ? 'acme' : 'other:tenant';
      },
    };
    runAsTenant(context as never, () => {
      expect(requireTenant().tenantId).toBe('acme');
      expect(requireTenant().tenantId).toBe('acme');
    });
    expect(reads).toBe(1);
  });

  it('a tenant id that is a String object, or has a trailing newline, is refused', () => {
    const actor = parseActor({ id: 'u1' });
    for (const tenantId of [new String('acme'), 'acme\n', 'acme ', ' acme', 'ac/me']) {
      expect(() => runAsTenant({ tenantId, actor } as never, () => 1), JSON.stringify(tenantId)).toThrowError(
        refused,
      );
    }
  });

  it('an actor made in another realm is parsed (never taken as parsed), and a malformed one refused', () => {
    const foreign = vm.runInNewContext(
      "Object.freeze({ id: 'u1', roles: Object.freeze(['MANAGER']), kind: 'user' })",
    );
    runAsTenant({ tenantId: 'acme', actor: foreign }, () => {
      const ctx = requireTenant();
      expect(ctx.actor).not.toBe(foreign);
      expect(ctx.actor).toEqual({ id: 'u1', roles: ['MANAGER'], kind: 'user' });
      expect(Object.getPrototypeOf(ctx.actor)).toBe(Object.prototype);
    });
    const bad = vm.runInNewContext("({ id: 'u1', roles: ['MANAGER', 7] })");
    expect(() => runAsTenant({ tenantId: 'acme', actor: bad }, () => 1)).toThrowError(refused);
  });
});
