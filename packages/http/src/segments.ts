import { type AccessPolicy, type Actor, DEFAULT_SEGMENTS, TenantryError, parseInput } from '@tenantry/core';
import { z } from 'zod';
import { invalid, isObject } from './validation.js';

/**
 * The seed's API segments as path prefixes, each naming a segment of the access policy (core's
 * `DEFAULT_SEGMENTS` role sets unless the policy defines its own): system management for the platform
 * and partners, back office for the tenant's managers, operations for day-to-day staff.
 */
export const DEFAULT_SEGMENT_PREFIXES: Readonly<Record<string, string>> = Object.freeze({
  '/sys-mgt': 'system',
  '/back-office': 'backOffice',
  '/ops': 'operations',
});

/** Path prefix → segment name. */
export const SegmentPrefixesSchema = z.record(
  z.string().regex(/^\/[A-Za-z0-9._~/-]*[^/]$/, 'a path prefix like /ops'),
  z.string().min(1),
);

/** A compiled prefix table: which segment a path is in. */
export interface SegmentMap {
  /** The segment of `path`, or `undefined` outside every segment. */
  segmentOf(path: string): string | undefined;
  /**
   * Refuse an actor without a role of the segment.
   * @throws TenantryError `PERMISSION_DENIED`
   */
  assertActorIn(actor: Actor, segment: string): void;
}

const defaultRoles: Readonly<Record<string, readonly string[]>> = DEFAULT_SEGMENTS;

// Runs on every request of a segment: a plain loop, no callback allocated.
function holdsOneOf(held: readonly string[], allowed: readonly string[]): boolean {
  for (const r of held) if (allowed.includes(r)) return true;
  return false;
}

// Whether a path needs normalizing before it is matched: an upper-case ASCII letter, a run of
// slashes, or a percent-escape.
const UNNORMALIZED = /[A-Z%]|\/\//;
const SLASHES = /\/{2,}/g;
// A percent-escape of an ASCII character (`%73` is `s`, `%2F` is `/`). Escapes of other bytes cannot
// spell a prefix (prefixes are ASCII), so they are left as they are and nothing can fail to decode.
const ASCII_ESCAPE = /%([0-7][0-9A-Fa-f])/g;
const unescapeAscii = (path: string): string =>
  path.replace(ASCII_ESCAPE, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/**
 * The path as segments are matched: percent-escapes of ASCII characters decoded (repeatedly, so a
 * double escape is decoded too), ASCII letters lower-cased and runs of `/` collapsed. Routers match
 * more loosely than a plain prefix test (Express ignores case by default; Fastify decodes escapes
 * before it picks a route and can be told to ignore duplicate slashes), so the segment guard must match
 * at least every path the router sends to a segment's routes: a path it misses would skip the guard.
 * Matching more (a path no router sends there) only refuses a request that would have found no route.
 */
function normalizedPath(path: string): string {
  if (!UNNORMALIZED.test(path)) return path;
  let p = path;
  for (let i = 0; i < 4 && p.includes('%'); i++) {
    const next = unescapeAscii(p);
    if (next === p) break;
    p = next;
  }
  return p.replace(SLASHES, '/').toLowerCase();
}

/**
 * Compile segment prefixes. A path is in a segment when it equals the prefix or continues it with `/`
 * or `;` (`/ops`, `/ops/x` and `/ops;v=1`, not `/opsx`), compared without regard to ASCII case, with
 * percent-escapes of ASCII characters decoded and runs of slashes collapsed (`/OPS/x`, `/%6Fps/x` and
 * `//ops/x` are in `/ops`), so that a router matching loosely cannot reach a segment's routes around
 * its guard. Role sets come from `policy.segment(name)`, else
 * core's `DEFAULT_SEGMENTS`.
 * @throws ValidationError `VALIDATION_FAILED` for malformed prefixes, or two prefixes differing only in case
 */
export function createSegmentMap(
  prefixes: Readonly<Record<string, string>>,
  policy?: AccessPolicy,
): SegmentMap {
  if (!isObject(prefixes))
    invalid('segment prefixes', [], 'must be an object of path prefix to segment name');
  const parsed = parseInput(SegmentPrefixesSchema, prefixes, 'segment prefixes');
  if (policy !== undefined && typeof (policy as { segment?: unknown } | null)?.segment !== 'function') {
    invalid('access policy', ['segment'], 'must be a function');
  }
  const entries: Array<[string, string]> = [];
  for (const [prefix, name] of Object.entries(parsed)) {
    const lower = prefix.replace(SLASHES, '/').toLowerCase();
    if (entries.some(([p]) => p === lower)) {
      invalid('segment prefixes', [prefix], 'must differ from every other prefix in more than case');
    }
    entries.push([lower, name]);
  }
  entries.sort(([a], [b]) => b.length - a.length);
  const roles = (segment: string): readonly string[] =>
    policy?.segment(segment) ?? defaultRoles[segment] ?? [];
  return {
    segmentOf(path: string): string | undefined {
      const p = normalizedPath(path);
      for (const [prefix, name] of entries) {
        if (!p.startsWith(prefix)) continue;
        const next = p.charCodeAt(prefix.length); // NaN at the end of the path
        if (Number.isNaN(next) || next === 47 /* / */ || next === 59 /* ; */) return name;
      }
      return undefined;
    },
    assertActorIn(actor: Actor, segment: string): void {
      const allowed = roles(segment);
      if (!holdsOneOf(actor.roles, allowed)) {
        throw new TenantryError(
          'PERMISSION_DENIED',
          `This API segment needs one of the roles: ${allowed.join(', ')}`,
          {
            details: { segment },
          },
        );
      }
    },
  };
}

/**
 * Refuse an actor holding none of `roles`.
 * @throws TenantryError `PERMISSION_DENIED`
 */
export function assertRoles(actor: Actor | undefined, roles: readonly string[]): void {
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    invalid('required roles', [], 'must be an array of strings');
  }
  if (actor !== undefined && (!isObject(actor) || !Array.isArray(actor.roles))) {
    invalid('actor', ['roles'], 'must be an array');
  }
  if (!actor?.roles.some((r) => roles.includes(r))) {
    throw new TenantryError('PERMISSION_DENIED', `One of the roles ${roles.join(', ')} is needed`, {
      details: { roles: [...roles] },
    });
  }
}
