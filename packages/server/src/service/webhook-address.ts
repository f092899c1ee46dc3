/**
 * Where a webhook may be sent (docs/webhooks.md, "Address rules"): http and https only, and only
 * to public unicast addresses. Addresses are classified by ipaddr.js's range(), IPv4-mapped IPv6
 * (::ffff:127.0.0.1) as the IPv4 address it carries. The rule is checked twice: at registration
 * (the name resolved now, a 400 naming the rule) and at every connection (webhook-sender.ts checks
 * the address actually connected to), since a name may resolve elsewhere later.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { TasklaneError } from '../domain/errors.js';

/** Resolves a host name to its addresses (node's dns.lookup by default; tests inject one). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** The range an address is refused for (`loopback`, `private`, `linkLocal`, …), or null when it is public. */
/** IPv4-compatible IPv6 (::a.b.c.d, deprecated by RFC 4291): ipaddr.js calls it unicast. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

export function refusedRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range === 'unicast' && parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE)) return 'ipv4Compatible';
  return range === 'unicast' ? null : range;
}

/** The host of a URL as an IP literal (brackets of IPv6 removed), or null when it is a name. */
export function ipLiteral(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? bare : null;
}

export interface AddressPolicy {
  /** TASKLANE_WEBHOOK_ALLOW_PRIVATE: any address (the scheme rule stays). */
  allowPrivate: boolean;
  resolve: Resolver;
}

/**
 * Checks a URL a client registers (an endpoint's url, a task's callbackUrl); throws
 * URL_NOT_ALLOWED naming the rule it breaks. `path` is the field, for the error.
 */
export async function checkTargetUrl(raw: string, path: string, policy: AddressPolicy): Promise<void> {
  const refuse = (rule: string, detail: string): never => {
    throw new TasklaneError('URL_NOT_ALLOWED', detail, { errors: [{ path, message: `${rule}: ${detail}` }] });
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('url', 'The URL is not an absolute URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse('scheme', `Only http and https URLs are allowed, not ${url.protocol.slice(0, -1)}.`);
  }
  if (url.username !== '' || url.password !== '') return refuse('credentials', 'The URL may not carry credentials.');
  if (policy.allowPrivate) return;
  const literal = ipLiteral(url.hostname);
  let addresses: string[];
  if (literal !== null) addresses = [literal];
  else {
    try {
      addresses = await policy.resolve(url.hostname);
    } catch {
      return refuse('unresolvable', `The host ${url.hostname} does not resolve.`);
    }
  }
  if (addresses.length === 0) return refuse('unresolvable', `The host ${url.hostname} does not resolve.`);
  for (const a of addresses) {
    const range = refusedRange(a);
    if (range !== null) {
      return refuse(range, `The host ${url.hostname} is a ${range} address (${a}); only public addresses are allowed.`);
    }
  }
}
