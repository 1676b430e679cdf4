import { describe, expect, it } from 'vitest';
import { CorsSettingsSchema, corsOptionsOf } from '../src/cross-origin.js';

describe('CORS settings', () => {
  it.each([
    ['"null" (sandboxed frames and file: pages, which any page can produce)', 'null'],
    ['a wildcard', '*'],
    ['a wildcard subdomain', 'https://*.example.com'],
    ['a trailing slash', 'https://app.example.com/'],
    ['a path', 'https://app.example.com/app'],
    ['no scheme', 'app.example.com'],
    ['another scheme', 'ftp://app.example.com'],
    ['upper case (browsers send the origin lower-cased, so it would never match)', 'https://App.example.com'],
    ['a default port spelled out (browsers omit it)', 'https://app.example.com:443'],
    ['an empty string', ''],
  ])('refuses %s as an origin', (_name, origin) => {
    expect(CorsSettingsSchema.safeParse({ origins: [origin] }).success).toBe(false);
  });

  it('accepts exact origins, with a port when it is not the default, and keeps them as given', () => {
    const settings = CorsSettingsSchema.parse({
      origins: ['https://app.example.com', 'http://localhost:5173'],
    });
    expect(corsOptionsOf(settings)).toEqual({
      origin: ['https://app.example.com', 'http://localhost:5173'],
      credentials: false,
      maxAge: 600,
    });
  });
});
