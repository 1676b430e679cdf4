import { parseInput } from '@tenantry/core';
import { z } from 'zod';

/** One step of a field path: a property, optionally followed by `[]` (every element of an array). */
interface Segment {
  key: string;
  each: boolean;
}

/** A parsed field path such as `smtp.password`, `items[].secret` or `tokens[]`. */
export interface FieldPath {
  /** The path as declared; bound into each ciphertext as the field name. */
  readonly path: string;
  readonly segments: readonly Segment[];
}

const SEGMENT = /^([A-Za-z_$][A-Za-z0-9_$-]*)(\[\])?$/;
const PATH = /^[A-Za-z_$][A-Za-z0-9_$-]*(\[\])?(\.[A-Za-z_$][A-Za-z0-9_$-]*(\[\])?)*$/;
// Segments that would reach an object's prototype instead of its own data.
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/** A declared field path: `smtp.password`, `items[].secret`, `tags[]` (at most 1,000 characters). */
export const FieldPathSchema = z
  .string()
  .max(1000)
  .regex(PATH, 'must be dot-separated property names, each optionally followed by []')
  .refine(
    (p) => !p.split('.').some((s) => FORBIDDEN.has(s.replace('[]', ''))),
    'must not name __proto__, prototype or constructor',
  );

/**
 * Parse a declared field path: dot-separated property names, each optionally suffixed with `[]` to
 * mean every element of an array (`items[].secret`, `tags[]`, `a.b[].c[]`).
 * @throws ValidationError `VALIDATION_FAILED` on a malformed path (the message never quotes it)
 */
export function parseFieldPath(path: string): FieldPath {
  const cached = typeof path === 'string' ? parsedPaths.get(path) : undefined;
  if (cached) return cached;
  parseInput(FieldPathSchema, path, 'field path');
  const segments = path.split('.').map((p) => {
    const m = SEGMENT.exec(p)!;
    return { key: m[1]!, each: m[2] !== undefined };
  });
  const parsed: FieldPath = Object.freeze({ path, segments: Object.freeze(segments) });
  if (parsedPaths.size >= 1000) parsedPaths.clear();
  parsedPaths.set(path, parsed);
  return parsed;
}

const parsedPaths = new Map<string, FieldPath>();

/** Call `fn` on every value the path reaches, without copying anything. */
export function forEachAtPath(root: unknown, path: FieldPath, fn: (value: unknown) => void): void {
  const walk = (node: unknown, i: number): void => {
    if (!isPlainObject(node)) return;
    const seg = path.segments[i]!;
    if (!Object.hasOwn(node, seg.key)) return;
    const child = node[seg.key];
    if (child === null || child === undefined) return;
    const last = i === path.segments.length - 1;
    const visit = (v: unknown) => {
      if (v === null || v === undefined) return;
      if (last) fn(v);
      else walk(v, i + 1);
    };
    if (seg.each) {
      if (Array.isArray(child)) for (const v of child) visit(v);
    } else visit(child);
  };
  walk(root, 0);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array) &&
  !(v instanceof Date);

/**
 * Return a copy of `root` with `fn` applied to every value the path reaches (objects and arrays on
 * the way are copied, nothing is mutated). Missing properties, `null` and `undefined` are left alone.
 */
export function mapPath(root: unknown, path: FieldPath, fn: (value: unknown) => unknown): unknown {
  const walk = (node: unknown, i: number): unknown => {
    if (!isPlainObject(node)) return node;
    const seg = path.segments[i]!;
    if (!Object.hasOwn(node, seg.key)) return node;
    const child = node[seg.key];
    if (child === null || child === undefined) return node;
    const last = i === path.segments.length - 1;
    const apply = (v: unknown): unknown =>
      v === null || v === undefined ? v : last ? fn(v) : walk(v, i + 1);
    let next: unknown;
    if (seg.each) {
      if (!Array.isArray(child)) return node;
      next = child.map(apply);
    } else {
      next = apply(child);
    }
    return { ...node, [seg.key]: next };
  };
  return walk(root, 0);
}
