import { createHash } from 'node:crypto';
import { canonicalJson, parseInput } from '@tenantry/core';
import { z } from 'zod';
import { VaultError } from './errors.js';
import { type VaultModule, VaultModuleSchema } from './module.js';

/** What a registry records about a module (the `tenantry_vault_modules` row). */
export interface ModuleDeclaration {
  readonly name: string;
  readonly schemaVersion: number;
  readonly dependsOn: readonly string[];
  /** SHA-256 (hex) of the canonical declaration (name, schema version, dependencies, upgrade steps). */
  readonly checksum: string;
}

/**
 * The host app's data modules, in dependency order (invariant V4). Registration is atomic per call:
 * a batch with an unknown dependency or a cycle registers nothing.
 */
export interface ModuleRegistry {
  /**
   * Registers one or more modules (they may depend on each other and on modules registered before).
   * @throws VaultError `VAULT_MODULE_DUPLICATE` (name taken), `VAULT_MODULE_UNKNOWN_DEPENDENCY`
   * (`details.module`, `details.dependency`), `VAULT_MODULE_CYCLE` (`details.cycle`, e.g. `['a','b','a']`)
   * @throws ValidationError `VALIDATION_FAILED` on a malformed declaration
   */
  register(...modules: VaultModule[]): void;
  /** The module, or `undefined`. */
  get(name: string): VaultModule | undefined;
  /** Every module, dependencies before dependents (ties in registration order). */
  ordered(): readonly VaultModule[];
  /** The declarations, in dependency order. */
  declarations(): readonly ModuleDeclaration[];
}

const ModuleListSchema = z.array(z.unknown()).max(10_000);

/**
 * A module's declaration and its SHA-256 (what a snapshot's writer was).
 * @throws ValidationError `VALIDATION_FAILED` on a malformed module
 */
export function declarationOf(module: VaultModule): ModuleDeclaration {
  parseInput(VaultModuleSchema, module, 'vault module');
  const dependsOn = [...(module.dependsOn ?? [])];
  const upgradeSteps = Object.keys(module.upgrades ?? {})
    .map(Number)
    .sort((a, b) => a - b);
  const checksum = createHash('sha256')
    .update(
      canonicalJson({
        name: module.name,
        schemaVersion: module.schemaVersion,
        dependsOn: [...dependsOn].sort(),
        upgradeSteps,
      }),
    )
    .digest('hex');
  return Object.freeze({
    name: module.name,
    schemaVersion: module.schemaVersion,
    dependsOn: Object.freeze(dependsOn),
    checksum,
  });
}

/**
 * A new, empty module registry (see {@link ModuleRegistry}).
 * @example
 * const registry = createModuleRegistry();
 * registry.register(usersModule, tasksModule); // tasks depends on users
 */
export function createModuleRegistry(modules: readonly VaultModule[] = []): ModuleRegistry {
  const byName = new Map<string, VaultModule>();
  let order: VaultModule[] = [];

  const registry: ModuleRegistry = {
    register(...batch: VaultModule[]): void {
      for (const m of batch) parseInput(VaultModuleSchema, m, 'vault module');
      const next = new Map(byName);
      for (const m of batch) {
        if (next.has(m.name)) {
          throw new VaultError('VAULT_MODULE_DUPLICATE', `A module named ${m.name} is already registered`, {
            details: { module: m.name },
          });
        }
        next.set(m.name, m);
      }
      for (const m of batch) {
        for (const dep of m.dependsOn ?? []) {
          if (!next.has(dep)) {
            throw new VaultError(
              'VAULT_MODULE_UNKNOWN_DEPENDENCY',
              `Module ${m.name} depends on ${dep}, which is not registered`,
              {
                details: { module: m.name, dependency: dep },
              },
            );
          }
        }
      }
      const cycle = findCycle(next);
      if (cycle) {
        throw new VaultError('VAULT_MODULE_CYCLE', `Module dependencies form a cycle: ${cycle.join(' → ')}`, {
          details: { cycle },
        });
      }
      order = topologicalOrder(next);
      byName.clear();
      for (const [k, v] of next) byName.set(k, v);
    },
    get: (name) => (typeof name === 'string' ? byName.get(name) : undefined),
    ordered: () => Object.freeze([...order]),
    declarations: () => Object.freeze(order.map(declarationOf)),
  };
  parseInput(ModuleListSchema, modules, 'modules');
  if (modules.length > 0) registry.register(...modules);
  return Object.freeze(registry);
}

/** A cycle as a path whose first and last names are equal, or `undefined`. Depth-first, iterative. */
function findCycle(modules: ReadonlyMap<string, VaultModule>): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  for (const start of modules.keys()) {
    if (state.has(start)) continue;
    const stack: Array<{ name: string; deps: readonly string[]; i: number }> = [];
    const push = (name: string): void => {
      state.set(name, 1);
      stack.push({ name, deps: modules.get(name)?.dependsOn ?? [], i: 0 });
    };
    push(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { name: string; deps: readonly string[]; i: number };
      if (top.i >= top.deps.length) {
        state.set(top.name, 2);
        stack.pop();
        continue;
      }
      const dep = top.deps[top.i++] as string;
      const s = state.get(dep);
      if (s === 1) {
        const from = stack.findIndex((f) => f.name === dep);
        return [...stack.slice(from).map((f) => f.name), dep];
      }
      if (s === undefined) push(dep);
    }
  }
  return undefined;
}

/** Kahn's algorithm; among ready modules, the one registered first goes first (a stable order). */
function topologicalOrder(modules: ReadonlyMap<string, VaultModule>): VaultModule[] {
  const names = [...modules.keys()];
  const remaining = new Map(names.map((n) => [n, new Set(modules.get(n)?.dependsOn ?? [])]));
  const out: VaultModule[] = [];
  while (remaining.size > 0) {
    const ready = names.find((n) => remaining.get(n)?.size === 0);
    if (ready === undefined) break; // unreachable: cycles are rejected first
    remaining.delete(ready);
    for (const deps of remaining.values()) deps.delete(ready);
    out.push(modules.get(ready) as VaultModule);
  }
  return out;
}
