// @tenantry/http's clientIpKey, which the Nest adapter's limits and both lockouts key clients by: IPv6 by
// its /56, IPv4-mapped as IPv4, and the same keys express-rate-limit's ipKeyGenerator gives the Express
// limiter, so the two adapters never disagree on who a client is.
import { ipKeyGenerator } from 'express-rate-limit';
import { describe, expect, it } from 'vitest';
import { clientIpKey } from '@tenantry/http';

describe('clientIpKey', () => {
  it('keys IPv6 clients by their /56, IPv4 (also mapped into IPv6) by the address', () => {
    expect(clientIpKey('2001:db8:1:2:3:4:5:6')).toBe(clientIpKey('2001:db8:1:ff:ffff::1'));
    expect(clientIpKey('2001:db8:1:2:3:4:5:6')).not.toBe(clientIpKey('2001:db8:1:100::1'));
    expect(clientIpKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientIpKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientIpKey('2001:db8::1', 64)).toBe(clientIpKey('2001:db8::ffff:1', 64));
    expect(clientIpKey('unknown')).toBe('unknown');
    expect(clientIpKey('not an address')).toBe('not an address');
    expect(clientIpKey(undefined as unknown as string)).toBe('unknown');
  });

  it('gives the keys express-rate-limit gives the Express limiter', () => {
    for (const ip of [
      '203.0.113.7',
      '::1',
      '::',
      '::ffff:198.51.100.1',
      '::198.51.100.1',
      '2001:db8:1:2:3:4:5:6',
      '2001:DB8::1',
      'fe80::1',
      '2001:db8:1:ff:ffff::1',
    ]) {
      expect([ip, clientIpKey(ip)]).toEqual([ip, ipKeyGenerator(ip)]);
    }
  });
});
