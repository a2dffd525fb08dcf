import { BlockList, isIPv4 } from 'node:net';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config/load';

/** Where a proxy or load balancer in front of the gateway sits: RFC 1918, CGNAT, loopback, link-local, ULA. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return isIPv4(plain) ? PRIVATE.check(plain, 'ipv4') : PRIVATE.check(plain, 'ipv6');
}

/**
 * In production with TRUST_PROXY unset, a request from a private address that carries X-Forwarded-For almost
 * certainly came through a proxy the gateway was not told about: every client then has the proxy's address, and
 * all of them share one failed-authentication budget. Said once, loudly, at error level; requests are still
 * served (refusing them would turn a configuration slip into an outage, and since issue 13 defect 2 a shared
 * budget only slows invalid tokens).
 */
export function warnOnUntrustedProxy(config: Config, logger: Logger): RequestHandler | undefined {
  if (config.env !== 'production' || config.trustProxy !== false) return undefined;
  let warned = false;
  return (req, _res, next) => {
    const peer = req.socket.remoteAddress;
    if (!warned && req.headers['x-forwarded-for'] !== undefined && peer !== undefined && isPrivateAddress(peer)) {
      warned = true;
      logger.error(
        { proxy_address: peer, setting: 'TRUST_PROXY' },
        "TRUST_PROXY IS NOT SET, but requests arrive from a private address with X-Forwarded-For: every client behind that proxy shares one address (one failed-authentication budget, one address in the logs). Set TRUST_PROXY to the proxy's addresses or hop count.",
      );
    }
    next();
  };
}
