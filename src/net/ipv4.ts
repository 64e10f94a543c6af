/** IPv4 addresses and CIDRs as numbers, for planning subnets and checking rules. Pure. */

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIpv4(s: string): boolean {
  const m = DOTTED.exec(s);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
}

export const ipToInt = (ip: string): number => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0) >>> 0;

export const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

export interface Cidr {
  /** The network address (host bits cleared). */
  base: number;
  bits: number;
}

/** "10.1.2.0/24" (or a bare address, /32); undefined when malformed. Host bits are cleared. */
export function parseCidr(s: string): Cidr | undefined {
  const [addr, len, extra] = s.split("/");
  if (extra !== undefined || !addr || !isIpv4(addr)) return undefined;
  const bits = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : NaN;
  if (!(bits >= 0 && bits <= 32)) return undefined;
  return { base: (ipToInt(addr) & maskOf(bits)) >>> 0, bits };
}

export const maskOf = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** The dotted netmask of a prefix length (255.255.255.224 for 27). */
export const netmaskOf = (bits: number): string => intToIp(maskOf(bits));
