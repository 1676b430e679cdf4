// The canonical form an outsider must reproduce: the event text and the checkpoint's signed bytes
// are RFC 8785 (JSON Canonicalization Scheme) for the values an audit event may hold. Proven here
// with the RFC's published examples, and by verifying an export with nothing but node:crypto and a
// JCS function (the README's snippet, with the library swapped for any RFC 8785 implementation).
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { canonicalJson, runAsTenant } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { createAuditLog, createMasker, generateCheckpointKeys } from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';

describe('canonical form = RFC 8785 (JCS) for the values we allow', () => {
  it('RFC 8785 §3.2.2 example: literals, numbers (ECMAScript serialisation), string escaping', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalJson(input)).toBe(expected);
    expect(canonicalJson(createMasker({ paths: [] }).mask(input))).toBe(expected);
  });

  it('RFC 8785 §3.2.3 example: property names sorted by UTF-16 code units, not code points or locale', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    );
    // (Not checked through Object.keys: JavaScript lists integer-like keys such as "1" first.)
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('RFC 8785 appendix B number vectors (IEEE 754 bits → JCS text); NaN and Infinity are refused', () => {
    const vectors: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    const masker = createMasker({ paths: [] });
    for (const [bits, text] of vectors) {
      const n = Buffer.from(bits, 'hex').readDoubleBE(0);
      expect(`${bits}: ${canonicalJson(masker.mask({ n }))}`).toBe(`${bits}: {"n":${text}}`);
    }
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      const n = Buffer.from(bits, 'hex').readDoubleBE(0);
      expect(() => masker.mask({ n })).toThrow(expect.objectContaining({ code: 'AUDIT_VALUE_UNSUPPORTED' }));
    }
  });
});

/**
 * The README's outsider verification, verbatim apart from `jcs` (there: the `canonicalize` package).
 * Only node:crypto and an RFC 8785 function: no Tenantry code.
 */
function outsiderVerify(
  lines: string[],
  publicKeyHex: string,
  jcs: (v: unknown) => string,
): { ok: boolean; checked: number } {
  const records = lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  const header = records.find((r) => r.type === 'header');
  const events = records.filter((r) => r.type === 'event').sort((a, b) => a.seq - b.seq);
  let prev = '0'.repeat(64);
  for (const [i, e] of events.entries()) {
    const hash = createHash('sha256')
      .update(`tenantry-audit-v1\n${header.chain}\n${e.seq}\n${e.recordedAt}\n${e.prevHash}\n${e.text}`)
      .digest('hex');
    // seq dense from 1, linked to the previous hash, own hash right, text in canonical form.
    if (e.seq !== i + 1 || e.prevHash !== prev || e.hash !== hash || jcs(JSON.parse(e.text)) !== e.text) {
      return { ok: false, checked: i };
    }
    prev = e.hash;
  }
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
  for (const { type: _type, signature, ...cp } of records.filter((r) => r.type === 'checkpoint')) {
    const signed = Buffer.from(`tenantry-audit-checkpoint-v1\n${jcs(cp)}`, 'utf8');
    if (!verifySignature(null, signed, key, Buffer.from(signature, 'hex'))) return { ok: false, checked: -1 };
    const at = events.find((e) => e.seq === cp.seq);
    if (!at || at.hash !== cp.hash) return { ok: false, checked: -1 };
  }
  return { ok: true, checked: events.length };
}

describe('an outsider verifies an export without our code', () => {
  it('with node:crypto and an RFC 8785 canonicaliser; an edit is caught', async () => {
    const keys = generateCheckpointKeys();
    const log = createAuditLog({
      sink: new MemoryAuditSink(),
      signingKey: keys.secretKey,
      publicKeys: [keys.publicKey],
    });
    const lines: string[] = [];
    await runAsTenant({ tenantId: 'acme', actor: { id: 'u' } }, async () => {
      for (let i = 0; i < 5; i++) {
        await log.record({
          actor: { id: 'u' },
          action: 'doc.viewed',
          outcome: 'success',
          metadata: { i, note: 'Zürich 🚀', x: 1e21 },
        });
      }
      await log.checkpoint();
      for await (const line of log.exportTrail()) lines.push(line);
    });
    expect(outsiderVerify(lines, keys.publicKey, canonicalJson)).toEqual({ ok: true, checked: 5 });
    const edited = lines.map((l, i) => (i === 3 ? l.replace('doc.viewed', 'doc.deleted') : l));
    expect(outsiderVerify(edited, keys.publicKey, canonicalJson).ok).toBe(false);
  });
});
