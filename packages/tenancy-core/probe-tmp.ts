import pg from 'pg';
import { runAsSystem, noopAuditPort } from '@tenantry/core';
import { createTenantUnitOfWork, tenantTableSql } from '@tenantry/core/postgres';
const base = 'postgres://postgres@127.0.0.1:5432/postgres';
const db = 'tenantry_probe_pl';
const admin = new pg.Client({ connectionString: base }); await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`); await admin.query(`CREATE DATABASE ${db}`);
await admin.query(`DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='probe_app') THEN CREATE ROLE probe_app LOGIN; END IF; END$$`);
const u = (user?: string) => { const x = new URL(base); x.pathname = '/' + db; if (user) x.username = user; return x.toString(); };
const owner = new pg.Pool({ connectionString: u(), max: 2 });
await owner.query(`CREATE TABLE invoices (tenant_id text NOT NULL, id bigint PRIMARY KEY, total numeric NOT NULL);
INSERT INTO invoices SELECT 'tenant-' || (g % 100), g, g FROM generate_series(1,100000) g;`);
for (const s of tenantTableSql({ table: 'invoices' })) await owner.query(s);
await owner.query('VACUUM ANALYZE invoices'); await owner.query('GRANT USAGE ON SCHEMA public TO probe_app; GRANT SELECT ON invoices TO probe_app');
const C = Number(process.env.C ?? 1);
const piped = new pg.Pool({ connectionString: u('probe_app'), max: C, pipeline: true });
const bare = new pg.Pool({ connectionString: u(), max: C });
const uow = createTenantUnitOfWork(piped);
const q = 'SELECT id, total FROM invoices ORDER BY id DESC LIMIT 20';
const plain = 'SELECT id, total FROM invoices WHERE tenant_id = $1 ORDER BY id DESC LIMIT 20';
let n = 0; const t = () => `tenant-${(n++ * 7) % 100}`;
const variants: Record<string, () => Promise<unknown>> = {
  bare: () => bare.query(plain, [t()]),
  uowQuery: () => uow.query(q, [], { tenantId: t() }),
  rawPipe: async () => { const c = await piped.connect(); try { const a = c.query(`BEGIN; SELECT set_config('app.tenant_id', '${t()}', true)`); const b = c.query(q); const d = c.query('COMMIT; RESET app.tenant_id; RESET ROLE'); await Promise.all([a,b,d]); } finally { c.release(); } },
  rawPipeCork: async () => { const c = await piped.connect(); try { const st = (c as any).connection.stream; st.cork(); const a = c.query(`BEGIN; SELECT set_config('app.tenant_id', '${t()}', true)`); const b = c.query(q); const d = c.query('COMMIT; RESET app.tenant_id; RESET ROLE'); st.uncork(); await Promise.all([a,b,d]); } finally { c.release(); } },
  bareCork: async () => { const c = await piped.connect(); try { const st = (c as any).connection.stream; st.cork(); const b = c.query(plain, [t()]); st.uncork(); await b; } finally { c.release(); } },
  rawPipeNoReset: async () => { const c = await piped.connect(); try { const a = c.query(`BEGIN; SELECT set_config('app.tenant_id', '${t()}', true)`); const b = c.query(q); const d = c.query('COMMIT'); await Promise.all([a,b,d]); } finally { c.release(); } },
  pipedPlainNoTx: async () => { const c = await piped.connect(); try { await c.query(plain, [t()]); } finally { c.release(); } },
};
await runAsSystem({ actor: { id: 'b', kind: 'service' }, reason: 'probe' }, noopAuditPort, async () => {
  const res: Record<string, number[]> = {};
  for (let round = 0; round < 4; round++) for (const [k, f] of Object.entries(variants).filter(([k]) => (process.env.ONLY ?? k).split(',').includes(k))) {
    const end = performance.now() + 600; let count = 0;
    await Promise.all(Array.from({ length: C }, async () => { while (performance.now() < end) { await f(); count++; } }));
    (res[k] ??= []).push(count / 0.6);
  }
  for (const [k, v] of Object.entries(res)) { v.sort((a,b)=>a-b); console.log(k.padEnd(16), v.map((x) => Math.round(x)).join(' ')); }
});
await piped.end(); await bare.end(); await owner.end();
piped.on('error',()=>{});bare.on('error',()=>{});owner.on('error',()=>{});
await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`); await admin.end();
