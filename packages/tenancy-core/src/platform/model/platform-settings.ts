import { z } from 'zod';
import { ConfigMapSchema } from './json.js';

/** Platform-wide settings: the first layer of settings resolution, and global maintenance mode. */
export const PlatformSettingsInputSchema = z.object({
  /** Global setting values. @default {} */
  values: ConfigMapSchema.default({}),
  /** Global maintenance mode: writes refused for all but super admins. @default false */
  maintenance: z.boolean().default(false),
});
/** Input accepted by `updatePlatformSettings`. */
export type PlatformSettingsInput = z.input<typeof PlatformSettingsInputSchema>;

/** Stored platform settings. `version` 0 means never written (the defaults). */
export const PlatformSettingsSchema = PlatformSettingsInputSchema.extend({
  version: z.number().int().min(0),
  updatedAt: z.date().nullable(),
});
/** Stored platform settings. */
export type PlatformSettings = z.output<typeof PlatformSettingsSchema>;

/** The settings every platform starts with (version 0). */
export function defaultPlatformSettings(): PlatformSettings {
  return { values: {}, maintenance: false, version: 0, updatedAt: null };
}
