// Instruction counts of one AES-256-GCM `open` of a 64 B value, ours and by hand (the same two
// functions as the "open 64 B, AES-256-GCM" row of ../seal-open.ts), for `valgrind --tool=callgrind`,
// which counts the same under any load. Not run by `npm run bench` (a subfolder).
//
// Per operation = (instructions at N=60000 − at N=0) / 60000, so start-up and warm-up cancel out;
// `--single-threaded` keeps V8's background threads (whose spinning under valgrind grows with wall time,
// not work) out of the count:
//
//   MODE=ours N=60000 valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//     node --single-threaded --conditions=@tenantry/source --import tsx \
//     packages/crypto-fields/bench/callgrind/open-64b.ts
//
// MODE: ours | hand. N: measured operations after WARM (default 20000) warm-up operations.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { runAsTenant } from '@tenantry/core';
import { createFieldCrypto, localKeyProvider, pooledRandom } from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';

const mode = process.env.MODE ?? 'ours';
const n = Number(process.env.N ?? 10000);
const warm = Number(process.env.WARM ?? 20000);
const ctx = {
  tenantId: 'acme',
  collection: 'settings',
  field: 'smtpPassword',
  rowId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
};
const KEK = Buffer.alloc(32, 7).toString('base64');
let sink = 0;

await runAsTenant({ tenantId: 'acme', actor: { id: 'bench', roles: ['ADMIN'] } }, async () => {
  const fields = createFieldCrypto({
    algorithm: 'aes-256-gcm',
    store: new MemoryDataKeyStore(),
    provider: localKeyProvider({ keys: { k: KEK }, primary: 'k' }),
  });
  const value = 'x'.repeat(64);
  const sealed = await fields.seal(value, ctx);
  // As in ../seal-open.ts: an AAD of the same length as ours, precomputed.
  const headerLen = sealed.indexOf(':', 7) + 1;
  const aad = randomBytes(
    headerLen + 4 * 4 + 1 + [ctx.tenantId, ctx.collection, ctx.field, ctx.rowId].join('').length,
  );
  const key = randomBytes(32);
  const nonce = pooledRandom().bytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
  const ct = c.update(value, 'utf8');
  const fin = c.final();
  const text0 = Buffer.concat([nonce, ct, fin, c.getAuthTag()]).toString('base64url');
  const ours = () => fields.open(sealed, ctx);
  const hand = () => {
    const raw = Buffer.from(text0, 'base64url');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
      .setAAD(aad)
      .setAuthTag(raw.subarray(raw.length - 16));
    const a = d.update(raw.subarray(12, raw.length - 16));
    const b = d.final();
    sink += (b.length === 0 ? a : Buffer.concat([a, b])).toString('utf8').length;
  };
  const fn: () => unknown = mode === 'ours' ? ours : hand;
  // The bench's loop (testkit's `throughput`): await only what is a promise.
  for (let i = 0; i < warm + n; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
});
if (sink === -1) console.log(sink);
