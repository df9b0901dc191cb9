import { isIP, isIPv4, isIPv6 } from 'node:net';

/** An IP address as a number, so that ranges are a comparison of its leading bits. */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
  /** The address as it is written in messages (IPv4-mapped IPv6 shown as IPv4). */
  text: string;
}

/** A range of addresses (`10.0.0.0/8`, `fe80::/10`, a single address is /32 or /128). */
export interface IpRange {
  family: 4 | 6;
  base: bigint;
  prefix: number;
  text: string;
}

const BITS = { 4: 32, 6: 128 } as const;

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function ipv4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function ipv6Value(text: string): bigint {
  // A trailing dotted IPv4 part (`::ffff:1.2.3.4`) becomes two groups.
  let body = text;
  const dotted = body.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = ipv4Value(dotted[1]!);
    body = `${body.slice(0, -dotted[1]!.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = body.includes('::') ? body.split('::') as [string, string] : [body, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  return groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n);
}

const MAPPED_PREFIX = 0xffffn << 32n;
const NAT64_PREFIX = 0x64ff9bn << 64n;

/** A host as a URL or Host header spells it (`[::1]`) without the brackets around an IPv6 address. */
export function withoutBrackets(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Parses an IP address (no brackets, no zone). IPv4-mapped IPv6 (`::ffff:169.254.169.254`,
 * `::ffff:a9fe:a9fe`), and NAT64's `64:ff9b::169.254.169.254`, is the IPv4 address it carries: connecting to it reaches that address,
 * so every rule about the IPv4 address must hold for it too. Returns undefined for anything
 * that is not an address.
 */
export function parseIp(input: string): IpAddress | undefined {
  const text = withoutBrackets(input).replace(/%.*$/, '');
  if (isIPv4(text)) {
    const value = ipv4Value(text);
    return { family: 4, value, text: ipv4Text(value) };
  }
  if (!isIPv6(text)) return undefined;
  const value = ipv6Value(text.toLowerCase());
  // NAT64's well-known prefix (64:ff9b::/96) reaches the IPv4 address it embeds, too.
  if (value >> 32n === 0xffffn || value >> 32n === NAT64_PREFIX) {
    const v4 = value & 0xffffffffn;
    return { family: 4, value: v4, text: ipv4Text(v4) };
  }
  return { family: 6, value, text: text.toLowerCase() };
}

/** True when `input` is an IP address (of either family, brackets allowed). */
export function isIpAddress(input: string): boolean {
  return isIP(withoutBrackets(input)) !== 0;
}

/** Parses `10.0.0.0/8`, `fe80::/10` or a single address; undefined when it is neither. */
export function parseRange(input: string): IpRange | undefined {
  const [addressPart, prefixPart, ...rest] = input.trim().split('/');
  if (rest.length > 0 || !addressPart) return undefined;
  const plain = withoutBrackets(addressPart);
  const family = isIPv4(plain) ? 4 : isIPv6(plain) ? 6 : undefined;
  if (!family) return undefined;
  const bits = BITS[family];
  const prefix = prefixPart === undefined ? bits : /^\d{1,3}$/.test(prefixPart) ? Number(prefixPart) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  let value = family === 4 ? ipv4Value(plain) : ipv6Value(plain.toLowerCase());
  let rangeFamily: 4 | 6 = family;
  let rangePrefix = prefix;
  // `::ffff:169.254.0.0/112` is the IPv4 range it maps.
  if (family === 6 && prefix >= 96 && (value & ~0xffffffffn) === MAPPED_PREFIX) {
    value &= 0xffffffffn;
    rangeFamily = 4;
    rangePrefix = prefix - 96;
  }
  const hostBits = BigInt(BITS[rangeFamily] - rangePrefix);
  const base = (value >> hostBits) << hostBits;
  const text = `${rangeFamily === 4 ? ipv4Text(base) : plain.toLowerCase()}/${rangePrefix}`;
  return { family: rangeFamily, base, prefix: rangePrefix, text };
}

/** True when the address lies in the range. */
export function inRange(address: IpAddress, range: IpRange): boolean {
  if (address.family !== range.family) return false;
  const hostBits = BigInt(BITS[range.family] - range.prefix);
  return address.value >> hostBits === range.base >> hostBits;
}
