import { describe, expect, it } from 'vitest';
import {
  SENSITIVE_FIELDS,
  Sensitive,
  createAuditLog,
  createMasker,
  diffChanges,
  markSensitive,
} from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { asTenant } from './helpers.js';

describe('masking', () => {
  it('masks by key anywhere, by anchored path and by wildcards, case-insensitively', () => {
    const m = createMasker({
      paths: ['password', '*.token', 'apiKey', 'billing.card.number', 'sessions.**.secretValue'],
    });
    expect(
      m.mask({
        password: 'p',
        user: { name: 'Ann', Password: 'p2', token: 't1', nested: { token: 'kept: not one level deep' } },
        APIKEY: 'k',
        billing: { card: { number: '4111', brand: 'visa' } },
        sessions: [{ a: { b: { secretValue: 's' } } }],
        list: [{ password: 'in array' }],
      }),
    ).toEqual({
      password: '[REDACTED]',
      user: {
        name: 'Ann',
        Password: '[REDACTED]',
        token: '[REDACTED]',
        nested: { token: 'kept: not one level deep' },
      },
      APIKEY: '[REDACTED]',
      billing: { card: { number: '[REDACTED]', brand: 'visa' } },
      sessions: [{ a: { b: { secretValue: '[REDACTED]' } } }],
      list: [{ password: '[REDACTED]' }],
    });
  });

  it('masks a listed name in snake, kebab or upper case, by name and by anchored path', () => {
    const m = createMasker({ paths: ['apiKey', 'billing.cardNumber', '*.sessionId'] });
    expect(
      m.mask({
        api_key: 'a',
        'API-KEY': 'b',
        'api key': 'c',
        billing: { card_number: '4111', 'Card-Number': '4242', brand: 'visa' },
        user: { session_id: 's1', 'Session-ID': 's2', sessions: 3 },
        // Neighbours stay: a name that only contains a listed one.
        apiKeyCount: 2,
      }),
    ).toEqual({
      api_key: '[REDACTED]',
      'API-KEY': '[REDACTED]',
      'api key': '[REDACTED]',
      billing: { card_number: '[REDACTED]', 'Card-Number': '[REDACTED]', brand: 'visa' },
      user: { session_id: '[REDACTED]', 'Session-ID': '[REDACTED]', sessions: 3 },
      apiKeyCount: 2,
    });
  });

  it('masks the usual OAuth and password field names by default, however spelt', async () => {
    const audit = createAuditLog({ sink: new MemoryAuditSink() });
    const metadata = {
      access_token: 'secret-1',
      refresh_token: 'secret-2',
      id_token: 'secret-3',
      client_secret: 'secret-4',
      new_password: 'secret-5',
      current_password: 'secret-6',
      private_key: 'secret-7',
      'api-key': 'secret-8',
      accessToken: 'secret-9',
      nested: [{ Refresh_Token: 'secret-10' }],
      note: 'kept',
    };
    const { id } = await asTenant('acme', () =>
      audit.recordInContext({ action: 'client.created', outcome: 'success', metadata }),
    );
    await audit.flush();
    const page = await asTenant('acme', () => audit.query({}));
    const stored = page.events.find((e) => e.id === id);
    const text = JSON.stringify(stored);
    for (let i = 1; i <= 10; i++) expect(text).not.toContain(`secret-${i}"`);
    expect(stored?.metadata).toMatchObject({ note: 'kept', access_token: '[REDACTED]' });
    await audit.close();
  });

  it('masks fields marked by decorator, by class registration and by the per-object symbol', () => {
    // What TypeScript emits for `@Sensitive() ssn` under experimentalDecorators (NestJS) ...
    class User {
      name = 'Ann';
      ssn = '123-45-6789';
    }
    Sensitive()(User.prototype, 'ssn');
    // ... and under standard decorators: the field decorator registers from an initializer.
    class Patient {
      mrn = 'MRN-1';
      ward = 'B';
    }
    const initializers: Array<(this: unknown) => void> = [];
    Sensitive()(undefined, {
      kind: 'field',
      name: 'mrn',
      addInitializer: (f: () => void) => initializers.push(f),
    });
    const patient = new Patient();
    for (const f of initializers) f.call(patient);
    class Card {
      constructor(
        readonly last4: string,
        readonly pan: string,
      ) {}
    }
    markSensitive(Card, 'pan');
    const plain = { email: 'a@b.c', [SENSITIVE_FIELDS]: ['email'] };
    const m = createMasker({ paths: [] });
    expect(
      m.mask({ user: new User(), patient, card: new Card('1111', '4111111111111111'), contact: plain }),
    ).toEqual({
      user: { name: 'Ann', ssn: '[REDACTED]' },
      patient: { mrn: '[REDACTED]', ward: 'B' },
      card: { last4: '1111', pan: '[REDACTED]' },
      contact: { email: '[REDACTED]' },
    });
  });

  it('masks before the event reaches the sink, in metadata and in before/after changes', async () => {
    const sink = new MemoryAuditSink();
    const log = createAuditLog({ sink, masking: { paths: ['password', 'apiKey', 'card.number'] } });
    await asTenant('acme', () =>
      log.record({
        tenantId: 'acme',
        actor: { id: 'u1' },
        action: 'user.updated',
        outcome: 'success',
        metadata: { apiKey: 'sk_live_123', reason: 'rotation' },
        changes: diffChanges(
          { password: 'old', plan: 'free', seats: 1, card: { number: '4111', brand: 'visa' } },
          { password: 'new', plan: 'pro', seats: 1, card: { number: '5500', brand: 'mc' } },
        ),
      }),
    );
    const [stored] = await sink.readChain('acme', 0, 10);
    expect(stored!.text).not.toContain('sk_live_123');
    expect(stored!.text).not.toMatch(/"old"|"new"|4111|5500/);
    expect(JSON.parse(stored!.text)).toMatchObject({
      metadata: { apiKey: '[REDACTED]', reason: 'rotation' },
      changes: {
        before: { password: '[REDACTED]', plan: 'free', card: { number: '[REDACTED]', brand: 'visa' } },
        after: { password: '[REDACTED]', plan: 'pro', card: { number: '[REDACTED]', brand: 'mc' } },
      },
    });
    expect(JSON.parse(stored!.text).changes.before).not.toHaveProperty('seats');
  });

  it('enforces size limits and refuses values no store keeps exactly', async () => {
    const log = createAuditLog({
      sink: new MemoryAuditSink(),
      limits: { maxMetadataBytes: 100 },
      delivery: { mode: 'direct' },
    });
    const base = { tenantId: 'acme', actor: { id: 'u1' }, action: 'x.y', outcome: 'success' as const };
    await asTenant('acme', async () => {
      await expect(log.record({ ...base, metadata: { blob: 'x'.repeat(200) } })).rejects.toMatchObject({
        code: 'AUDIT_EVENT_TOO_LARGE',
      });
      await expect(log.record({ ...base, metadata: { s: 'nul\u0000char' } })).rejects.toMatchObject({
        code: 'AUDIT_VALUE_UNSUPPORTED',
      });
      await expect(log.record({ ...base, metadata: { s: 'lone \ud800 surrogate' } })).rejects.toMatchObject({
        code: 'AUDIT_VALUE_UNSUPPORTED',
      });
      await expect(log.record({ ...base, metadata: { n: Number.NaN } })).rejects.toMatchObject({
        code: 'AUDIT_VALUE_UNSUPPORTED',
      });
      await expect(log.record({ ...base, action: 'Not An Action' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(log.record({ ...base, tenantId: '../other' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect(await log.record({ ...base, metadata: { ok: '🚀 ünïcode' } })).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    });
  });
});
