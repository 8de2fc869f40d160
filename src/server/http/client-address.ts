import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) is `1.2.3.4`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The key limits are counted under: an IPv4 address, or an IPv6 /64 (one subscriber usually
 * holds a whole /64, so counting single IPv6 addresses would let one client be millions).
 */
export function limitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, '').toLowerCase())
    .join(':')}::/64`;
}

/**
 * Finds the client's address for a request. Without trusted proxies it is the TCP peer.
 * `X-Forwarded-For` and `Forwarded` are honoured only when the peer is a trusted proxy, and then
 * read from the right, skipping further trusted hops: the first untrusted address is the client
 * (entries left of it are whatever the client chose to send).
 */
export class ClientAddress {
  private readonly trusted: BlockList | undefined;

  /** `trustProxy`: addresses or CIDR ranges (`10.0.0.0/8`, `::1`) of the proxies in front. */
  constructor(trustProxy: readonly string[] = []) {
    if (trustProxy.length === 0) return;
    this.trusted = new BlockList();
    for (const entry of trustProxy) {
      const [address = '', bits] = entry.trim().split('/');
      const family = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : undefined;
      if (!family) throw new Error(`trustProxy: "${entry}" is not an IP address or CIDR range`);
      if (bits === undefined) this.trusted.addAddress(address, family);
      else this.trusted.addSubnet(address, Number(bits), family);
    }
  }

  /** Whether `address` is one of the trusted proxies. */
  isTrusted(address: string): boolean {
    if (!this.trusted) return false;
    const ip = plain(address);
    const family = isIP(ip);
    return family !== 0 && this.trusted.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** The client's address for `req`. */
  of(req: IncomingMessage): string {
    const peer = plain(req.socket.remoteAddress ?? 'unknown');
    if (!this.isTrusted(peer)) return peer;
    const hops = [...forwardedFor(req), peer];
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = plain(hops[i]!);
      if (isIP(hop) === 0) return peer; // garbage in the chain: trust nothing it says
      if (!this.isTrusted(hop)) return hop;
    }
    return peer;
  }
}

/** The addresses a request was forwarded for, left to right (`Forwarded` first, else `X-Forwarded-For`). */
function forwardedFor(req: IncomingMessage): string[] {
  const forwarded = req.headers.forwarded;
  if (forwarded) {
    return [...forwarded.matchAll(/for=("?)\[?([^\]";,]+)\]?(?::\d+)?\1/gi)].map((m) => m[2]!.trim());
  }
  const xff = req.headers['x-forwarded-for'];
  const value = Array.isArray(xff) ? xff.join(',') : xff;
  return value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}
