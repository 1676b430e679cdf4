// Throughput of one route behind the Express adapter, against the same route bare, measured with
// autocannon on loopback in the same run, alternating rounds. The servers run in a child process.
// "Bare" is the same Express app and POST route with no Tenantry middleware (express.json only, no
// helmet). Our apps always carry the adapter's defaults: helmet's headers and a request id.
// Rows: tenant resolution + context (jose-verified token, cached; runAsTenant) vs bare, and vs bare +
// helmet (the price of everything but the security headers); the full stack (+ gatekeeper on cached
// config + buffered audit log of the POST) vs bare; the adapter's own share (the same with events
// handed to an in-memory port instead of @tenantry/audit's log); and token + context vs its
// hand-written equivalent. Bounded: 5 rounds × 2 s per app, plus a warm-up.
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
  [
    '--conditions=@tenantry/source',
    ...process.execArgv.filter((a) => a !== '--conditions=@tenantry/source'),
    fileURLToPath(new URL('./fixtures/servers.ts', import.meta.url)),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_SECRET: secret } },
);
const ports = await new Promise<{
  bare: number;
  bareHelmet: number;
  context: number;
  full: number;
  adapterOnly: number;
  handwritten: number;
}>((resolve, reject) => {
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (line) resolve(JSON.parse(line));
  });
  child.once('exit', (code) => reject(new Error(`bench servers exited with ${code}`)));
});

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
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const samples = {
  bare: [] as number[],
  bareHelmet: [] as number[],
  context: [] as number[],
  full: [] as number[],
  adapterOnly: [] as number[],
  handwritten: [] as number[],
};
try {
  await rps(ports.bare);
  await rps(ports.full); // warm-up
  const order: Array<keyof typeof samples> = [
    'bare',
    'context',
    'bareHelmet',
    'adapterOnly',
    'full',
    'handwritten',
  ];
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of r % 2 === 0 ? order : [...order].reverse()) samples[k].push(await rps(ports[k]));
  }
} finally {
  child.kill('SIGTERM');
}
const bare = median(samples.bare);
const bareHelmet = median(samples.bareHelmet);
const rows: BenchRow[] = [
  {
    workload: 'express: token + context (+ helmet, request id) vs bare Express (no helmet)',
    ours: median(samples.context),
    baseline: bare,
    unit: 'req/s',
    ratio: median(samples.context) / bare,
  },
  {
    workload: 'express: token + context (+ helmet, request id) vs bare Express + helmet()',
    ours: median(samples.context),
    baseline: bareHelmet,
    unit: 'req/s',
    ratio: median(samples.context) / bareHelmet,
  },
  {
    workload: 'express: + gatekeeper + buffered audit log vs bare Express (no helmet)',
    ours: median(samples.full),
    baseline: bare,
    unit: 'req/s',
    ratio: median(samples.full) / bare,
  },
  {
    workload: 'express: + gatekeeper + audit event to memory port vs bare Express (no helmet)',
    ours: median(samples.adapterOnly),
    baseline: bare,
    unit: 'req/s',
    ratio: median(samples.adapterOnly) / bare,
  },
  {
    workload: 'express: token + context vs hand-written (jose jwtVerify + AsyncLocalStorage, no helmet)',
    ours: median(samples.context),
    baseline: median(samples.handwritten),
    unit: 'req/s',
    ratio: median(samples.context) / median(samples.handwritten),
  },
];
printBench(
  `@tenantry/express, POST with JSON body, ${CONNECTIONS} connections, ${ROUNDS}×${SECONDS}s per app`,
  rows,
);
