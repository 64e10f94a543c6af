/**
 * How a setting's text is checked and read: ports, counts, durations, addresses, names,
 * URLs. Each throws ConfigError naming where the value came from (a flag, EUCA_*, the
 * config file) and what is wrong with it.
 */
import { isIpv4 } from "../net/ipv4";

export class ConfigError extends Error {}

export function port(raw: string, source: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535)
    throw new ConfigError(`${source}: '${raw}' is not a TCP port (0-65535)`);
  return Number(raw);
}

export function oneOf<T extends string>(values: readonly T[], what: string) {
  return (raw: string, source: string): T => {
    if (!values.includes(raw as T))
      throw new ConfigError(`${source}: unknown ${what} '${raw}'; valid ${what}s: ${values.join(", ")}`);
    return raw as T;
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export function name(what: string) {
  return (raw: string, source: string): string => {
    if (!NAME.test(raw))
      throw new ConfigError(`${source}: '${raw}' is not a valid ${what} (letters, digits, '_', '.', '-')`);
    return raw;
  };
}

/** VNET_MACMAP: "MAC=IP MAC=IP …" (spaces or commas); every MAC and every address once. */
export function parseMacMap(raw: string): Array<{ mac: string; ip: string }> {
  return raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((pair) => {
      const [mac = "", ip = ""] = pair.split("=");
      return { mac: mac.toLowerCase(), ip };
    });
}

export type MacMap = ReadonlyArray<{ mac: string; ip: string }>;

export function macMap(raw: string, source: string): MacMap {
  const pairs = parseMacMap(raw);
  for (const p of pairs) {
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(p.mac) || !isIpv4(p.ip))
      throw new ConfigError(`${source}: '${p.mac}=${p.ip}' is not a MAC=IPv4 pair`);
    if (parseInt(p.mac.slice(0, 2), 16) & 1) throw new ConfigError(`${source}: ${p.mac} is a multicast MAC`);
  }
  for (const k of ["mac", "ip"] as const) {
    const seen = new Set<string>();
    for (const p of pairs) {
      if (seen.has(p[k])) throw new ConfigError(`${source}: ${p[k]} is given twice`);
      seen.add(p[k]);
    }
  }
  return pairs;
}

export function netmask(raw: string, source: string): string {
  const n = isIpv4(raw) ? raw.split(".").reduce((a, o) => a * 256 + Number(o), 0) : -1;
  const bits = n < 0 ? -1 : 32 - Math.log2(2 ** 32 - n);
  if (!Number.isInteger(bits) || bits < 8 || bits > 30)
    throw new ConfigError(`${source}: '${raw}' is not a netmask from 255.0.0.0 to 255.255.255.252`);
  return raw;
}

/** "from-to" as the pair [from, to]. */
export function portRange(raw: string, source: string): readonly [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2]))
    throw new ConfigError(`${source}: '${raw}' is not a port range (e.g. 10810-10999)`);
  return [Number(m[1]), Number(m[2])];
}

export function ifname(raw: string, source: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(raw)) throw new ConfigError(`${source}: '${raw}' is not an interface name`);
  return raw;
}

export function address(raw: string, source: string): string {
  if (raw !== "" && !isIpv4(raw)) throw new ConfigError(`${source}: '${raw}' is not an IPv4 address`);
  return raw;
}

export function subnet16(raw: string, source: string): string {
  if (raw !== "" && !/^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.test(raw))
    throw new ConfigError(`${source}: '${raw}' is not an a.b.0.0/16 subnet`);
  return raw;
}

/** Validates an address pool: comma list of a.b.c.d or a.b.c.d-a.b.c.e. */
export function parseIpRanges(raw: string, source: string): string {
  const ip = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
  for (const part of raw
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const ends = part.split("-");
    if (ends.length > 2 || ends.some((e) => !ip.test(e) || e.split(".").some((o) => Number(o) > 255))) {
      throw new ConfigError(`${source}: '${part}' is not an address or an a.b.c.d-a.b.c.e range`);
    }
  }
  return raw;
}

export function yesNo(raw: string, source: string): boolean {
  if (/^(yes|true|1|on)$/i.test(raw)) return true;
  if (/^(no|false|0|off)$/i.test(raw)) return false;
  throw new ConfigError(`${source}: '${raw}' is not yes or no`);
}

export function positive(raw: string, source: string): number {
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) throw new ConfigError(`${source}: '${raw}' is not a positive integer`);
  return Number(raw);
}

export function smtpUrl(raw: string, source: string): string {
  if (raw === "") return raw;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${source}: '${raw}' is not a URL (smtp://host:port or smtps://host:port)`);
  }
  if (u.protocol !== "smtp:" && u.protocol !== "smtps:")
    throw new ConfigError(`${source}: '${raw}' is not an smtp:// or smtps:// URL`);
  return raw;
}

export function count(raw: string, source: string): number {
  if (!/^\d{1,12}$/.test(raw)) throw new ConfigError(`${source}: '${raw}' is not a non-negative integer`);
  return Number(raw);
}

/** A duration in seconds; fractions allowed (tests poll every 0.05 s). */
export function seconds(raw: string, source: string): number {
  if (!/^\d{1,7}(\.\d{1,3})?$/.test(raw)) throw new ConfigError(`${source}: '${raw}' is not a number of seconds`);
  return Number(raw);
}
