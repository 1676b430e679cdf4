import { z } from 'zod';

/**
 * CORS settings both adapters accept. CORS is off (no CORS headers at all, a cross-origin preflight gets
 * none) unless origins are listed.
 */
export const CorsSettingsSchema = z.object({
  /** Exact origins allowed (`https://app.example.com`); no wildcard. */
  origins: z.array(z.string().min(1)).min(1),
  /** Send `Access-Control-Allow-Credentials: true`. @default false */
  credentials: z.boolean().default(false),
  /** How long browsers may cache a preflight answer, in seconds. @default 600 */
  maxAgeSec: z.number().int().nonnegative().default(600),
});
/** Validated {@link CorsSettingsSchema}. */
export type CorsSettings = z.output<typeof CorsSettingsSchema>;

/** The options of the `cors` package and of `@fastify/cors` (both read these names) for `settings`. */
export function corsOptionsOf(settings: CorsSettings): {
  origin: string[];
  credentials: boolean;
  maxAge: number;
} {
  return { origin: [...settings.origins], credentials: settings.credentials, maxAge: settings.maxAgeSec };
}
