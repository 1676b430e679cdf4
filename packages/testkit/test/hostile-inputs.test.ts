import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN §4 and CONTRIBUTING §5: every exported function of every published package fails with a
// Tenantry error that carries a code, never a TypeError/RangeError/plain Error, a hang or a crash.
// The functions are found from each package's exports map, so a new export is covered without
// editing this test. `/testing` entries are excluded: they register test cases, they are not
// production API.
const repo = resolve(import.meta.dirname, '../../..');
// A ratchet: functions known to fail today (`<specifier>#<name>`). They are probed without the 10 MB
// string (some walk it character by character for minutes), and the test fails as soon as one of them
// passes, so the list only shrinks. Every other function is probed with every input and must pass.
const KNOWN_FAILING: ReadonlySet<string> = new Set(
  JSON.parse(
    readFileSync(join(import.meta.dirname, 'hostile-inputs.known-failing.json'), 'utf8'),
  ) as string[],
);
const CALL_TIMEOUT_MS = 500;

function deepObject(depth: number): unknown {
  let o: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) o = { a: o };
  return o;
}
const HOSTILE: ReadonlyArray<readonly [string, () => unknown]> = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['NaN', () => Number.NaN],
  ['-1', () => -1],
  ['bigint', () => 10n],
  ['symbol', () => Symbol('hostile')],
  ['function', () => () => 'hostile'],
  ['empty string', () => ''],
  ['10 MB string', () => 'x'.repeat(10 * 1024 * 1024)],
  ['NUL', () => 'a\u0000b'],
  ['lone surrogate', () => 'a\ud800b'],
  ['__proto__ key', () => JSON.parse('{"__proto__":{"isAdmin":true}}')],
  ['10,000-deep object', () => deepObject(10_000)],
  ['invalid date', () => new Date(Number.NaN)],
  ['array', () => [1, 'a', null]],
  ['empty object', () => ({})],
];

interface Entry {
  readonly specifier: string;
  readonly name: string;
  readonly fn: (...args: unknown[]) => unknown;
}

function publishedEntries(): string[] {
  const specifiers: string[] = [];
  for (const dir of readdirSync(join(repo, 'packages')).sort()) {
    const file = join(repo, 'packages', dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
      name: string;
      private?: boolean;
      exports?: object;
    };
    if (pkg.private || !pkg.exports) continue;
    for (const subpath of Object.keys(pkg.exports)) {
      if (subpath === './package.json' || subpath === './testing') continue;
      specifiers.push(subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`);
    }
  }
  return specifiers;
}

const isClass = (fn: unknown): boolean =>
  typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));

function isTyped(e: unknown): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as Record<symbol, unknown>)[Symbol.for('tenantry.error')] === true &&
    typeof (e as { code?: unknown }).code === 'string'
  );
}

async function probe(entry: Entry, args: unknown[]): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const call = (async () => {
      const out = isClass(entry.fn)
        ? new (entry.fn as unknown as new (...a: unknown[]) => unknown)(...args)
        : entry.fn(...args);
      return await out;
    })();
    const hang = new Promise<'hang'>((r) => {
      timer = setTimeout(() => r('hang'), CALL_TIMEOUT_MS);
    });
    if ((await Promise.race([call, hang])) === 'hang') return 'hang';
    return undefined;
  } catch (e) {
    if (isTyped(e)) return undefined;
    const name = e instanceof Error ? e.constructor.name : typeof e;
    const message = e instanceof Error ? e.message : String(e);
    return `${name}: ${message.slice(0, 120)}`;
  } finally {
    clearTimeout(timer);
  }
}

describe('hostile inputs to every exported function', async () => {
  const entries: Entry[] = [];
  // HOSTILE_ONLY=@tenantry/audit narrows a local run to one package's entries.
  const only = process.env.HOSTILE_ONLY;
  for (const specifier of publishedEntries().filter((s) => !only || s === only || s.startsWith(`${only}/`))) {
    const mod = (await import(specifier)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === 'function') entries.push({ specifier, name, fn: value as Entry['fn'] });
    }
  }

  it('finds the exported functions', () => {
    expect(entries.length).toBeGreaterThan(only ? 0 : 50);
  });

  it('gives a typed error (or a result) for every hostile input, never an untyped error or a hang', async () => {
    const failures: string[] = [];
    const failingIds = new Set<string>();
    for (const entry of entries) {
      const started = performance.now();
      const arity = Math.min(Math.max(entry.fn.length, 1), 4);
      const id = `${entry.specifier}#${entry.name}`;
      const known = KNOWN_FAILING.has(id);
      let knownFailed = false;
      for (const [label, make] of HOSTILE) {
        if (known && label === '10 MB string') continue;
        // The hostile value alone, and in every position the function declares.
        const shapes = [[make()], Array.from({ length: arity }, make)];
        for (const args of shapes) {
          const problem = await probe(entry, args);
          if (!problem) continue;
          failingIds.add(id);
          if (known) {
            knownFailed = true;
            continue;
          }
          failures.push(`${entry.specifier} ${entry.name}(${label} ×${args.length}): ${problem}`);
          if (process.env.HOSTILE_LOG) console.error(failures.at(-1));
        }
      }
      if (known && !knownFailed)
        failures.push(`${id} passes now: remove it from hostile-inputs.known-failing.json`);
      if (process.env.HOSTILE_LOG)
        console.error(`TIME ${entry.specifier} ${entry.name} ${Math.round(performance.now() - started)} ms`);
    }
    if (process.env.HOSTILE_WRITE_KNOWN) {
      // Maintainers only: record today's failing functions (the list should only ever shrink).
      writeFileSync(
        join(import.meta.dirname, 'hostile-inputs.known-failing.json'),
        `${JSON.stringify([...failingIds].sort(), null, 2)}\n`,
      );
      return;
    }
    expect(failures, `${failures.length} untyped failures:\n${failures.join('\n')}`).toEqual([]);
  }, 600_000);
});
