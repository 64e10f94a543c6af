/**
 * DHCP for a cluster's guests by one dnsmasq: static leases only (a MAC the cluster did
 * not lease is never answered), on every segment bridge (`--bind-dynamic`, so a segment
 * made later is served without a restart). Each host line tags its segment; the options
 * file gives each tag its router, netmask, MTU and DNS server. Both files are re-read
 * on SIGHUP, so a new instance or segment costs a signal, not a restart.
 */
import { netmaskOf, parseCidr, intToIp } from "./ipv4";

export interface DhcpSegment {
  /** The tag naming the segment in the files, e.g. "seg10". */
  tag: string;
  cidr: string;
  /** None on a LAN without one (STATIC without VNET_ROUTER). */
  router?: string;
  broadcast?: string;
  mtu?: number;
}

export interface DhcpHost {
  mac: string;
  ip: string;
  /** The instance's private host name (its first label is sent). */
  hostname: string;
  tag: string;
}

export interface DhcpConfig {
  /** The whole private range (a static dhcp-range covering every segment). */
  range: string;
  /** Interfaces served: a name or a wildcard ("eucart*"). */
  interfaces: string;
  segments: DhcpSegment[];
  hosts: DhcpHost[];
  dns?: string;
  leaseSeconds: number;
  /** The unprivileged user and group it runs as after binding. */
  user: string;
  group: string;
}

export function dhcpArgs(c: DhcpConfig, dir: string): string[] {
  const r = parseCidr(c.range)!;
  return [
    "--conf-file=/dev/null",
    `--pid-file=${dir}/dnsmasq.pid`,
    `--user=${c.user}`,
    `--group=${c.group}`,
    "--port=0",
    "--bind-dynamic",
    `--interface=${c.interfaces}`,
    "--except-interface=lo",
    "--dhcp-authoritative",
    "--leasefile-ro",
    "--log-dhcp",
    `--log-facility=${dir}/dnsmasq.log`,
    `--dhcp-range=${intToIp(r.base)},static,${netmaskOf(r.bits)},${c.leaseSeconds}`,
    `--dhcp-hostsfile=${dir}/hosts`,
    `--dhcp-optsfile=${dir}/options`,
  ];
}

export function dhcpHostsFile(c: DhcpConfig): string {
  return [...c.hosts]
    .sort((a, b) => a.ip.localeCompare(b.ip))
    .map((h) => `${h.mac},set:${h.tag},${h.ip},${h.hostname.split(".")[0]}\n`)
    .join("");
}

export function dhcpOptionsFile(c: DhcpConfig): string {
  return [...c.segments]
    .sort((a, b) => a.tag.localeCompare(b.tag))
    .flatMap((s) => [
      ...(s.router ? [`tag:${s.tag},option:router,${s.router}`] : []),
      `tag:${s.tag},option:netmask,${netmaskOf(parseCidr(s.cidr)!.bits)}`,
      ...(s.broadcast ? [`tag:${s.tag},option:broadcast,${s.broadcast}`] : []),
      ...(s.mtu ? [`tag:${s.tag},option:mtu,${s.mtu}`] : []),
      ...(c.dns ? [`tag:${s.tag},option:dns-server,${c.dns}`] : []),
    ])
    .map((l) => l + "\n")
    .join("");
}
