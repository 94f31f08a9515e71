import ipaddr from "ipaddr.js";

/** How many leading bits of an IPv6 address one subscriber typically holds (a /64). */
const IPV6_SUBSCRIBER_BITS = 64;

/**
 * The network a request comes from, as a key for limits: an IPv4 address as it is, an IPv6
 * address as its /64, since one home or phone gets a whole /64 and could otherwise rotate
 * through addresses for free. Unknown or unparsable addresses share one key.
 */
export function networkOf(ip: string | null): string {
  if (ip === null || !ipaddr.isValid(ip)) return "unknown";
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  const parts = (address as ipaddr.IPv6).parts;
  const prefixParts = IPV6_SUBSCRIBER_BITS / 16;
  const network = new ipaddr.IPv6([...parts.slice(0, prefixParts), ...new Array<number>(8 - prefixParts).fill(0)]);
  return `${network.toNormalizedString()}/${IPV6_SUBSCRIBER_BITS}`;
}
