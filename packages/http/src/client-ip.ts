import { isIPv6 } from 'node:net';
import { Address6 } from 'ip-address';

// IPv4 addresses written as IPv6 in the deprecated "compatible" notation (`::1.2.3.4`).
const IPV4_COMPATIBLE = new Address6('::/96');

/**
 * The key a client's address is rate-limited and locked out by, the same in every adapter: an IPv4
 * address as it is; an IPv6 address by its network of `ipv6Subnet` bits (/56 by default: the block one
 * subscriber is given, through which a client can rotate at will), and an IPv4-mapped one
 * (`::ffff:1.2.3.4`) as its IPv4 address. The keys express-rate-limit's `ipKeyGenerator` gives, so the
 * Express limiter's own keys and these agree. Anything else (`unknown`, a malformed value) is kept as it is.
 * @example clientIpKey('2001:db8:1:2:3:4:5:6') // '2001:db8:1::/56'
 */
export function clientIpKey(ip: string, ipv6Subnet = 56): string {
  if (typeof ip !== 'string' || !isIPv6(ip)) return typeof ip === 'string' ? ip : 'unknown';
  const address = new Address6(ip);
  if (address.isMapped4() || (address.is4() && address.isInSubnet(IPV4_COMPATIBLE))) {
    return address.to4().correctForm();
  }
  return new Address6(`${ip}/${ipv6Subnet}`).networkForm();
}
