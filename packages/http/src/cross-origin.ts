import { parseInput } from '@tenantry/core';
import { z } from 'zod';

/**
 * CORS settings both adapters accept. CORS is off (no CORS headers at all, a cross-origin preflight gets
 * none) unless origins are listed.
 */
export const CorsSettingsSchema = z.object({
  /**
   * Exact origins allowed, each `scheme://host[:port]` over http or https as a browser sends it
   * (`https://app.example.com`): no wildcard, no path or trailing slash, and not `null` (the origin of
   * sandboxed frames and `file:` pages, which any page can make itself).
   */
  origins: z
    .array(
      z.string().refine(isExactOrigin, {
        message: 'an exact origin: http(s)://host[:port], no path, wildcard or "null"',
      }),
    )
    .min(1),
  /** Send `Access-Control-Allow-Credentials: true`. @default false */
  credentials: z.boolean().default(false),
  /** How long browsers may cache a preflight answer, in seconds. @default 600 */
  maxAgeSec: z.number().int().nonnegative().default(600),
});
/** Validated {@link CorsSettingsSchema}. */
export type CorsSettings = z.output<typeof CorsSettingsSchema>;

/**
 * The options of the `cors` package and of `@fastify/cors` (both read these names) for `settings`.
 * @throws ValidationError `VALIDATION_FAILED` when `settings` is not {@link CorsSettingsSchema}
 */
export function corsOptionsOf(settings: CorsSettings): {
  origin: string[];
  credentials: boolean;
  maxAge: number;
} {
  const s = parseInput(CorsSettingsSchema, settings, 'cors settings');
  return { origin: [...s.origins], credentials: s.credentials, maxAge: s.maxAgeSec };
}

function isExactOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value && !value.includes('*')
    );
  } catch {
    return false;
  }
}
