// Throughput of one Nest route with TenancyModule (token + context; and the full stack: + gatekeeper on
// cached config + buffered audit log of the POST) against the same route in a bare Nest app and in a
// nestjs-cls app verifying the token with jose (what users write today), measured
// with autocannon on loopback in the same run, alternating rounds; servers in a child process.
// Bounded: 5 rounds × 2 s per app, plus a warm-up. BENCH_ROUNDS/BENCH_SECONDS shorten it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type BenchRow, printBench } from '@tenantry/testkit/bench';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 16;

const secret = randomBytes(32).toString('base64url');
const child = spawn(
  process.execPath,
  [...process.execArgv, fileURLToPath(new URL('./fixtures/servers.ts', import.meta.url))],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_SECRET: secret } },
);
const ports = await new Promise<{ bare: number; tenancy: number; full: number; cls: number }>(
  (resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`bench servers exited with ${code}`)));
  },
);

const token = await new SignJWT({ tenant_id: 'acme', roles: ['USER'] })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('bench-user')
  .setIssuer('bench-idp')
  .setAudience('bench-api')
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(secret));

async function rps(port: number): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/ops/hello`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ greeting: 'hi' }),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return result.requests.average;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const samples = { bare: [] as number[], tenancy: [] as number[], full: [] as number[], cls: [] as number[] };
try {
  await rps(ports.bare);
  await rps(ports.tenancy);
  await rps(ports.full);
  await rps(ports.cls);
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<keyof typeof samples> =
      r % 2 === 0 ? ['bare', 'tenancy', 'full', 'cls'] : ['cls', 'full', 'tenancy', 'bare'];
    for (const k of order) samples[k].push(await rps(ports[k]));
  }
} finally {
  child.kill('SIGTERM');
}
const rows: BenchRow[] = [
  {
    workload: 'nest: TenancyModule (token + context) vs bare Nest',
    ours: median(samples.tenancy),
    baseline: median(samples.bare),
    unit: 'req/s',
    ratio: median(samples.tenancy) / median(samples.bare),
  },
  {
    workload: 'nest: + gatekeeper (cached config) + buffered audit log vs bare Nest',
    ours: median(samples.full),
    baseline: median(samples.bare),
    unit: 'req/s',
    ratio: median(samples.full) / median(samples.bare),
  },
  {
    workload: 'nest: TenancyModule vs nestjs-cls + jose (hand-written equivalent)',
    ours: median(samples.tenancy),
    baseline: median(samples.cls),
    unit: 'req/s',
    ratio: median(samples.tenancy) / median(samples.cls),
  },
];
printBench(
  `@tenantry/nest on Express, POST with JSON body, ${CONNECTIONS} connections, ${ROUNDS}×${SECONDS}s per app`,
  rows,
);
