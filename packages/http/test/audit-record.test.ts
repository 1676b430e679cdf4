import { describe, expect, it } from 'vitest';
import { MASK, isMutatingMethod, maskBody, outcomeOfStatus, requestAuditEvent } from '../src/index.js';

describe('request audit events', () => {
  it('audits POST, PUT, PATCH and DELETE only', () => {
    expect(['POST', 'put', 'PATCH', 'DELETE'].every(isMutatingMethod)).toBe(true);
    expect(['GET', 'HEAD', 'OPTIONS'].some(isMutatingMethod)).toBe(false);
  });

  it('masks configured paths and secret-looking keys at any depth, and bounds the size', () => {
    const body = {
      name: 'Ann',
      Password: 'p',
      card: { number: '4111', holder: 'Ann' },
      items: [
        { iban: 'DE00', sku: 'x' },
        { iban: 'FR00', sku: 'y' },
      ],
      nested: { deeper: { apiKey: 'k' } },
      long: 'x'.repeat(5000),
    };
    const masked = maskBody(body, ['card.number', 'items.*.sku']) as {
      name: string;
      Password: string;
      card: unknown;
      items: unknown;
      nested: { deeper: { apiKey: string } };
      long: string;
    };
    expect(masked.name).toBe('Ann');
    expect(masked.Password).toBe(MASK);
    expect(masked.card).toEqual({ number: MASK, holder: 'Ann' });
    expect(masked.items).toEqual([
      { iban: MASK, sku: MASK },
      { iban: MASK, sku: MASK },
    ]);
    expect(masked.nested.deeper.apiKey).toBe(MASK);
    expect(masked.long.length).toBeLessThan(1100);
    expect(body.card.number).toBe('4111');
  });

  it('masks a listed key in camel, snake, kebab or upper case, at any depth', () => {
    const spellings = {
      new_password: 'a',
      current_password: 'b',
      'api-key': 'c',
      api_key: 'd',
      API_KEY: 'e',
      access_token: 'f',
      refresh_token: 'g',
      client_secret: 'h',
      card_number: 'i',
      'Id-Token': 'j',
      nested: [{ Access_Token: 'k' }, { deeper: { 'client secret': 'l' } }],
      // Neighbours stay: a name that only contains a listed one, and ordinary fields.
      tokenCount: 3,
      user_name: 'ann',
    };
    const masked = maskBody(spellings, []);
    expect(masked).toEqual({
      new_password: MASK,
      current_password: MASK,
      'api-key': MASK,
      api_key: MASK,
      API_KEY: MASK,
      access_token: MASK,
      refresh_token: MASK,
      client_secret: MASK,
      card_number: MASK,
      'Id-Token': MASK,
      nested: [{ Access_Token: MASK }, { deeper: { 'client secret': MASK } }],
      tokenCount: 3,
      user_name: 'ann',
    });
    // A caller's own list is compared the same way, however its names are spelt.
    expect(maskBody({ tax_id: '1', TaxId: '2', taxid: '3', tax: 4 }, [], new Set(['Tax-ID']))).toEqual({
      tax_id: MASK,
      TaxId: MASK,
      taxid: MASK,
      tax: 4,
    });
    expect(() => maskBody({}, [], new Set([1 as unknown as string]))).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('names who, as whom, route, resource, outcome, status and request facts', () => {
    const e = requestAuditEvent(
      {
        tenantId: 'acme',
        actor: { id: 'u1', roles: ['USER'], kind: 'user' },
        impersonator: { id: 'sup', roles: ['SUPER_ADMIN'], kind: 'user' },
        method: 'post',
        route: '/ops/invoices/:id',
        resource: { type: 'invoice', id: '42' },
        status: 201,
        ip: '127.0.0.1',
        userAgent: 'test',
        requestId: 'r1',
        body: { amount: 3, password: 'x' },
      },
      new Date(0),
    );
    expect(e).toMatchObject({
      tenantId: 'acme',
      actor: { id: 'u1' },
      impersonator: { id: 'sup' },
      action: 'http.post',
      outcome: 'success',
      targets: [
        { type: 'route', id: 'POST /ops/invoices/:id' },
        { type: 'invoice', id: '42' },
      ],
      request: { ip: '127.0.0.1', userAgent: 'test', requestId: 'r1' },
      metadata: { status: 201, body: { amount: 3, password: MASK } },
    });
    expect([
      outcomeOfStatus(403),
      outcomeOfStatus(401),
      outcomeOfStatus(402),
      outcomeOfStatus(409),
      outcomeOfStatus(204),
    ]).toEqual(['denied', 'denied', 'denied', 'failure', 'success']);
  });
});
