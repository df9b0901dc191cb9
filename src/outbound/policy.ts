import { lookup as dnsLookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { inRange, isIpAddress, parseIp, parseRange, withoutBrackets, type IpAddress, type IpRange } from './addresses.js';

/**
 * Where the server may connect on its own initiative (webhooks, contract live tests,
 * compliance checks): SPEC §15 "Outbound calls". One policy object per app, used by every
 * caller, so that the three cannot drift apart.
 *
 * The decision, for a URL's host name and each address it resolves to:
 * 1. a host name in `--outbound-deny` is refused whatever it resolves to;
 * 2. the address is matched against the ranges of `--outbound-allow` / `--outbound-deny`: the
 *    most specific one (longest prefix) decides, deny on a tie. Only when none covers it do
 *    the built-in ranges below decide, the same way. An address no range covers (the public
 *    internet) is allowed. So `--outbound-deny 0.0.0.0/0,::/0 --outbound-allow 10.1.0.0/16`
 *    allows one network and nothing else, and `--outbound-allow 169.254.170.2` lifts the
 *    link-local denial for that one address;
 * 3. a host name in `--outbound-allow` gets past the `--outbound-deny` ranges (so
 *    `--outbound-deny 0.0.0.0/0,::/0 --outbound-allow hooks.example.com` allows one service),
 *    but not past the built-in denials: only a range in `--outbound-allow` lifts those;
 * 4. whatever the ranges say, this server's own API (and dashboard) is refused: an event
 *    delivered to its own publish route would publish another, for ever.
 */

export type OutboundAction = 'allow' | 'deny';

interface RangeRule {
  action: OutboundAction;
  range: IpRange;
  /** How the rule is named in a refusal: `link-local 169.254.0.0/16`, `--outbound-deny 10.0.0.0/8`. */
  label: string;
  builtIn: boolean;
}

interface HostRule {
  action: OutboundAction;
  /** A lower-case name, or `*.example.com` for every name under example.com. */
  pattern: string;
  label: string;
}

function builtIn(action: OutboundAction, kind: string, cidr: string): RangeRule {
  const range = parseRange(cidr)!;
  return { action, range, label: `${kind} ${cidr}`, builtIn: true };
}

/** The defaults of SPEC §15: local services are what live tests are for; metadata services are not. */
const BUILT_IN_RULES: readonly RangeRule[] = [
  builtIn('deny', 'unspecified', '0.0.0.0/8'),
  builtIn('deny', 'unspecified', '::/128'),
  builtIn('deny', 'link-local', '169.254.0.0/16'),
  builtIn('deny', 'link-local', 'fe80::/10'),
  builtIn('deny', 'multicast', '224.0.0.0/4'),
  builtIn('deny', 'multicast', 'ff00::/8'),
  builtIn('deny', 'broadcast', '255.255.255.255/32'),
  builtIn('allow', 'loopback', '127.0.0.0/8'),
  builtIn('allow', 'loopback', '::1/128'),
  builtIn('allow', 'private', '10.0.0.0/8'),
  builtIn('allow', 'private', '172.16.0.0/12'),
  builtIn('allow', 'private', '192.168.0.0/16'),
  builtIn('allow', 'private', 'fc00::/7'),
];

const LOOPBACK = [parseRange('127.0.0.0/8')!, parseRange('::1/128')!];

const HOST_NAME = /^(\*\.)?(?=[a-z0-9])[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/;

/**
 * One `--outbound-allow` / `--outbound-deny` entry: a CIDR, an address, a host name or
 * `*.domain`. Throws an Error naming the entry when it is none of those.
 */
export function parseOutboundEntry(entry: string, action: OutboundAction): RangeRule | HostRule {
  const text = entry.trim();
  const label = `--outbound-${action} ${text}`;
  const range = parseRange(text);
  if (range) return { action, range, label, builtIn: false };
  const name = text.toLowerCase();
  if (!text.includes('/') && !isIpAddress(text) && HOST_NAME.test(name)) return { action, pattern: name.replace(/\.$/, ''), label };
  throw new Error(`"${text}" is neither a CIDR (10.0.0.0/8, fd00::/8), an IP address, nor a host name (example.com, *.example.com)`);
}

/** Why a call may not go where it was asked to. */
export class OutboundDenied extends Error {
  constructor(
    /** Why, in a few words: `link-local 169.254.0.0/16`, `--outbound-deny 127.0.0.0/8`. */
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'OutboundDenied';
  }
}

/** A listening server of this process: its port, and its host when bound to one address. */
export interface OwnServer {
  /** `API` or `dashboard`, for messages. */
  name: string;
  /** The host it was bound to (a name, an address, or 0.0.0.0 / :: for all). */
  host: string;
  port: number;
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

export interface OutboundSettings {
  allow: readonly string[];
  deny: readonly string[];
}

export class OutboundPolicy {
  private readonly ranges: RangeRule[];
  private readonly hosts: HostRule[];
  private readonly ownServers: (() => OwnServer | undefined)[] = [];
  /** How host names become addresses; tests replace it to play a rebinding DNS server. */
  resolve: Resolver = systemResolver;

  constructor(settings: OutboundSettings) {
    const entries = [
      ...settings.allow.map((e) => parseOutboundEntry(e, 'allow')),
      ...settings.deny.map((e) => parseOutboundEntry(e, 'deny')),
    ];
    this.ranges = [...BUILT_IN_RULES, ...entries.filter((e): e is RangeRule => 'range' in e)];
    this.hosts = entries.filter((e): e is HostRule => 'pattern' in e);
  }

  /** Registers a server of this process (the API, the dashboard) that calls must not reach. */
  addOwnServer(where: () => OwnServer | undefined): void {
    this.ownServers.push(where);
  }

  private hostRule(hostname: string, action: OutboundAction): HostRule | undefined {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    return this.hosts.find((rule) =>
      rule.action === action && (rule.pattern.startsWith('*.') ? name.endsWith(rule.pattern.slice(1)) : name === rule.pattern));
  }

  /**
   * The rule that decides an address (undefined: no range covers it, so it is allowed). The
   * settings' ranges come first, the most specific one deciding (deny on a tie); the built-in
   * ranges decide only an address no setting covers.
   */
  private decidingRule(address: IpAddress, hostAllowed: boolean): RangeRule | undefined {
    const mostSpecific = (rules: RangeRule[]) => {
      let best: RangeRule | undefined;
      for (const rule of rules) {
        if (!inRange(address, rule.range)) continue;
        if (!best || rule.range.prefix > best.range.prefix || (rule.range.prefix === best.range.prefix && rule.action === 'deny')) best = rule;
      }
      return best;
    };
    // A host name the settings allow gets past their denied ranges, not past the built-in ones.
    const settings = this.ranges.filter((rule) => !rule.builtIn && !(hostAllowed && rule.action === 'deny'));
    return mostSpecific(settings) ?? mostSpecific(this.ranges.filter((rule) => rule.builtIn));
  }

  private servers(): OwnServer[] {
    return this.ownServers.map((where) => where()).filter((s): s is OwnServer => s !== undefined);
  }

  /**
   * The own server `address:port` reaches, if any: its port on any address of this machine
   * (loopback, an interface's, the unspecified one). Refusing an address the server is not
   * bound to costs nothing; missing one that reaches it would let a webhook loop.
   */
  private ownServerAt(address: IpAddress, port: number): OwnServer | undefined {
    const server = this.servers().find((s) => s.port === port);
    if (!server) return undefined;
    const local = address.value === 0n || LOOPBACK.some((range) => inRange(address, range)) ||
      localAddresses().some((a) => a.family === address.family && a.value === address.value);
    return local ? server : undefined;
  }

  /**
   * Throws OutboundDenied when a connection to `address:port` (for a URL naming `hostname`)
   * is not allowed. Called with every address before connecting to it.
   */
  checkAddress(hostname: string, addressText: string, port: number): void {
    const address = parseIp(addressText);
    if (!address) throw new OutboundDenied(`${addressText} is not an IP address`);
    const named = isIpAddress(hostname) ? '' : `${hostname} resolves to ${address.text}: `;
    const own = this.ownServerAt(address, port);
    const where = address.family === 6 ? `[${address.text}]:${port}` : `${address.text}:${port}`;
    if (own) throw new OutboundDenied(`${named}${where} is this server's own ${own.name}; a call to itself could loop`);
    const rule = this.decidingRule(address, this.hostRule(hostname, 'allow') !== undefined);
    if (rule?.action === 'deny') throw new OutboundDenied(`${named}${rule.label}`);
  }

  /** Throws OutboundDenied when the host name itself is refused (before any address is known). */
  checkHostName(hostname: string, port: number): void {
    const denied = this.hostRule(hostname, 'deny');
    if (denied) throw new OutboundDenied(denied.label);
    const name = withoutBrackets(hostname.toLowerCase());
    const own = this.servers().find((s) => s.port === port && s.host.toLowerCase() === name);
    if (own) throw new OutboundDenied(`${hostname}:${port} is this server's own ${own.name}; a call to itself could loop`);
  }

  /**
   * Checks what a URL says by itself, before any lookup: its host name, and the address it
   * spells when it spells one (that address is connected to without a lookup). Answers the
   * name (without IPv6 brackets) and the port, for the checks that follow.
   */
  checkUrlAsWritten(url: URL): { hostname: string; port: number } {
    const hostname = withoutBrackets(url.hostname);
    const port = portOf(url);
    this.checkHostName(hostname, port);
    if (isIpAddress(hostname)) this.checkAddress(hostname, hostname, port);
    return { hostname, port };
  }

  /**
   * Checks a URL before it is stored or called: its host name, and every address it names or
   * resolves to now. A name that does not resolve now passes: it is checked again, address by
   * address, on every connection (outboundRequest), which is the check that counts.
   */
  async checkUrl(url: URL): Promise<void> {
    const { hostname, port } = this.checkUrlAsWritten(url);
    if (isIpAddress(hostname)) return;
    let addresses: { address: string }[];
    try {
      addresses = await Promise.race([this.resolve(hostname), deadline(RESOLVE_NOW_MS)]);
    } catch {
      return;
    }
    for (const { address } of addresses) this.checkAddress(hostname, address, port);
  }
}

/** How long checkUrl waits for a name to resolve; a slow resolver must not hold a request. */
const RESOLVE_NOW_MS = 2_000;

function deadline(ms: number): Promise<never> {
  return new Promise((_resolve, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref());
}

/** The port a URL connects to. */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** The addresses of this machine's interfaces. */
function localAddresses(): IpAddress[] {
  const out: IpAddress[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      const address = parseIp(entry.address);
      if (address) out.push(address);
    }
  }
  return out;
}

/** `webhook url http://x/ is denied by the outbound policy (link-local 169.254.0.0/16)`. */
export function deniedMessage(what: string, url: string, denied: OutboundDenied): string {
  return `${what} ${url} is denied by the outbound policy (${denied.reason})`;
}

declare module '../kernel/context.js' {
  interface AppContext {
    /** Where calls made on the server's own initiative may go (SPEC §15). */
    outbound: OutboundPolicy;
  }
}
