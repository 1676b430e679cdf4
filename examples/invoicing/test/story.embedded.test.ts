import { describe } from 'vitest';
import { startApp } from '../src/app.js';
import { storySuite } from './story.js';

// The README's default: no configuration, embedded PGlite behind its socket server, memory only where
// PGlite cannot serve (rate limits and lockout per process; snapshots in memory, like the database).
describe('the invoicing app on the embedded default (PGlite)', () => {
  storySuite(() => startApp({ env: {}, config: { port: 0 }, rateLimit: false }), 10);
});
