/**
 * The rootless (laptop) mode's network, rendered from security groups: a guest on
 * QEMU's user networking is reachable only through ports forwarded to it from the
 * host, so the forwards ARE its firewall. Every tcp/udp port an ingress rule lets in
 * from a loopback client is forwarded from each of the instance's loopback addresses
 * (private, public) to the same port of the guest; nothing else is.
 *
 * Pure: the cluster renders, the node's driver applies (hostfwd_add / hostfwd_remove).
 */
import { ipToInt, isIpv4, maskOf, parseCidr } from "./ipv4";

/** A security group's ingress rule, as the cluster enforces it. */
export interface IngressRule {
  /** "tcp", "udp", "icmp", "-1" (everything) or a protocol number. */
  protocol: string;
  /** Ports (tcp/udp) or ICMP type and code; -1 for "all". */
  fromPort: number;
  toPort: number;
  /** A CIDR the traffic may come from, or a group whose members may send it. */
  cidr?: string;
  sourceGroupId?: string;
}

/** One forward: connections to hostIp:port on the host reach the guest's port. */
export interface PortForward {
  protocol: "tcp" | "udp";
  hostIp: string;
  port: number;
}

/**
 * Forwarded (protocol, port) pairs per instance. Each is a listening socket in QEMU per
 * address, and QEMU keeps every socket in the 1024 descriptors a process has by
 * default, so a rule that allows every port forwards its lowest ones up to this.
 */
export const MAX_FORWARDED_PORTS = 128;

export const isLoopback = (ip: string): boolean => isIpv4(ip) && ip.startsWith("127.");

/** Whether a CIDR holds any loopback address (127.0.0.0/8): the clients a laptop cloud has. */
export function admitsLoopback(cidr: string): boolean {
  const c = parseCidr(cidr);
  if (!c) return false;
  const mask = maskOf(Math.min(c.bits, 8));
  return (c.base & mask) >>> 0 === (ipToInt("127.0.0.0") & mask) >>> 0;
}

interface Range {
  protocol: "tcp" | "udp";
  from: number;
  to: number;
}

/** The tcp/udp port ranges the rules open to loopback clients (group grants open none: no instance can connect to another here). */
function openRanges(rules: readonly IngressRule[]): Range[] {
  const out: Range[] = [];
  for (const r of rules) {
    if (!r.cidr || !admitsLoopback(r.cidr)) continue;
    const protocols: Array<"tcp" | "udp"> =
      r.protocol === "-1" ? ["tcp", "udp"] : r.protocol === "tcp" || r.protocol === "udp" ? [r.protocol] : [];
    const [from, to] = r.protocol === "-1" ? [1, 65535] : [Math.max(1, r.fromPort), Math.min(65535, r.toPort)];
    if (from > to) continue;
    for (const protocol of protocols) out.push({ protocol, from, to });
  }
  return out;
}

/** How many distinct ports the ranges cover, per protocol summed. */
function portCount(ranges: readonly Range[]): number {
  let n = 0;
  for (const protocol of ["tcp", "udp"] as const) {
    const rs = ranges.filter((r) => r.protocol === protocol).sort((a, b) => a.from - b.from);
    let end = 0;
    for (const r of rs) {
      if (r.to <= end) continue;
      n += r.to - Math.max(r.from, end + 1) + 1;
      end = r.to;
    }
  }
  return n;
}

export interface ForwardPlan {
  forwards: PortForward[];
  /** Ports the rules allow, and how many of them are forwarded (fewer past MAX_FORWARDED_PORTS). */
  allowed: number;
  forwarded: number;
  /** Addresses given that are not loopback, which nothing is forwarded from. */
  skipped: string[];
}

/**
 * The forwards of one instance: its addresses × the ports its groups' rules open.
 * Narrow rules are served first (a rule for 22 is kept when another allows everything),
 * then ports in ascending order, up to `limit` pairs.
 */
export function loopbackForwards(
  addresses: readonly string[],
  rules: readonly IngressRule[],
  limit = MAX_FORWARDED_PORTS,
): ForwardPlan {
  const ranges = openRanges(rules);
  const chosen: Array<{ protocol: "tcp" | "udp"; port: number }> = [];
  const seen = new Set<string>();
  const order = [...ranges].sort((a, b) => a.to - a.from - (b.to - b.from) || a.from - b.from);
  for (const r of order) {
    for (let port = r.from; port <= r.to && chosen.length < limit; port++) {
      const k = `${r.protocol}/${port}`;
      if (seen.has(k)) continue;
      seen.add(k);
      chosen.push({ protocol: r.protocol, port });
    }
    if (chosen.length >= limit) break;
  }
  chosen.sort((a, b) => (a.protocol === b.protocol ? a.port - b.port : a.protocol < b.protocol ? -1 : 1));
  const hosts = [...new Set(addresses.filter(Boolean))];
  const usable = hosts.filter(isLoopback);
  return {
    forwards: usable.flatMap((hostIp) => chosen.map((c) => ({ ...c, hostIp }))),
    allowed: portCount(ranges),
    forwarded: chosen.length,
    skipped: hosts.filter((h) => !isLoopback(h)),
  };
}

export const forwardKey = (f: PortForward): string => `${f.protocol}:${f.hostIp}:${f.port}`;
