// Worker side of the multi-process quota test: consumes one shared counter as fast as it can and
// reports how many units it was granted.
import { reportToParent, workerIdentity } from '@tenantry/testkit/child';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { ManualClock, type QuotaStore, createQuotas, runAsTenant } from '../../src/index.js';
import { PostgresQuotaStore } from '../../src/postgres.js';
import { RedisQuotaStore } from '../../src/redis.js';

const [backend, url, prefix, tenantId, limit, attempts, at] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];
let store: QuotaStore;
let close: () => Promise<void>;
if (backend === 'cluster') {
  const client = new Cluster(JSON.parse(url) as Array<{ host: string; port: number }>);
  store = new RedisQuotaStore({ redis: client, keyPrefix: prefix });
  close = async () => void client.disconnect();
} else if (backend === 'redis') {
  const client = new Redis(url);
  store = new RedisQuotaStore({ redis: client, keyPrefix: prefix });
  close = async () => void client.disconnect();
} else {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  store = new PostgresQuotaStore({ pool });
  close = () => pool.end();
}
const quotas = createQuotas({
  store,
  clock: new ManualClock(Number(at)),
  quotas: { emails: { window: 'day', defaultLimit: Number(limit) } },
});
let granted = 0;
let refused = 0;
// Two consumers in flight per process, so requests from one process also race each other.
const loop = async (n: number) => {
  for (let i = 0; i < n; i++) {
    const r = await runAsTenant({ tenantId, actor: { id: 'worker' } }, () => quotas.tryConsume('emails'));
    if (r.ok) granted++;
    else refused++;
  }
};
const n = Number(attempts);
await Promise.all([loop(Math.ceil(n / 2)), loop(Math.floor(n / 2))]);
reportToParent({ worker: workerIdentity().index, granted, refused });
await close();
