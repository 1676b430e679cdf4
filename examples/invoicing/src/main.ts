// The reference SaaS app. `npm start` (or `npm run example` at the repository root) runs it on an
// embedded PostgreSQL (PGlite) with no configuration; DATABASE_URL and REDIS_URL switch to real servers,
// MONGO_URL moves the packages' stores that have a Mongo backend to MongoDB (see services.ts).
import { join } from 'node:path';
import { startApp } from './app.js';
import { DEMO_PASSWORD, DEMO_USERS } from './seed.js';

const app = await startApp();
const s = app.services;
const database =
  s.db.kind !== 'embedded'
    ? 'PostgreSQL'
    : s.config.dataDir
      ? `embedded PGlite (on disk under ${join(s.config.dataDir, 'pglite')})`
      : 'embedded PGlite (in memory: data is gone when it stops; set DATA_DIR to keep it)';
console.log(
  `Tenantry Invoicing on ${database}${s.redis ? ' + Redis' : ''}${s.mongo ? ` + MongoDB (database ${s.config.mongo?.dbName}: audit, approvals, data keys, snapshot index)` : ''}`,
);
console.log(`Open ${app.url}/login`);
if (s.config.seedDemo) {
  console.log(`Demo logins (password "${DEMO_PASSWORD}"):`);
  for (const u of DEMO_USERS)
    console.log(
      `  ${u.email.padEnd(22)} ${u.roles.join(',').padEnd(14)} ${u.tenantId ?? (u.partnerId ? `partner ${u.partnerId}` : 'platform')}`,
    );
}
const where = {
  s3: `in the S3 bucket ${s.config.snapshots?.bucket}`,
  fs: `under ${s.config.dataDir && join(s.config.dataDir, 'snapshots')}`,
  memory: 'in memory, like the embedded database (set DATA_DIR or S3_BUCKET to keep them)',
}[s.vault.storageKind];
console.log(`Vault: per-tenant snapshots and restore on the Snapshots page, kept ${where}`);
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
