/**
 * Network namespaces for tests that send real packets: made by the test, removed by it,
 * never linked to the host's own namespace, so nothing leaves the machine.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import type { ProgramRunner } from "../../src/common/run-program";
import { runProgram } from "../../src/common/run-program";
import { run } from "./exec";

export const canNetns = (): boolean =>
  process.getuid?.() === 0 &&
  ["/usr/sbin/nft", "/usr/sbin/dnsmasq", "/usr/sbin/conntrack", "/bin/busybox"].every(
    (f) => spawnSync("test", ["-x", f]).status === 0,
  );

export function sh(cmd: string): { status: number; out: string } {
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status ?? 1, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

export function must(cmd: string): string {
  const r = sh(cmd);
  if (r.status !== 0) throw new Error(`${cmd}: ${r.out}`);
  return r.out;
}

/** A runner that runs every command inside namespace `ns`. */
export const inNamespace =
  (ns: string): ProgramRunner =>
  (cmd, args, opts) =>
    runProgram("ip", ["netns", "exec", ns, cmd, ...args], opts);

/**
 * An HTTP request from inside namespace `ns` by Node's own client (busybox nc stops reading
 * once its input ends, before a slower answer comes); the body, or "" on failure.
 */
export async function httpFrom(
  ns: string,
  method: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const script =
    "const [m, u, h] = process.argv.slice(1); " +
    "fetch(u, { method: m, headers: JSON.parse(h), signal: AbortSignal.timeout(5000) })" +
    ".then((r) => r.text()).then((t) => process.stdout.write(t), () => {});";
  const r = await run(
    "ip",
    ["netns", "exec", ns, process.execPath, "-e", script, method, url, JSON.stringify(headers)],
    {
      timeoutMs: 10_000,
    },
  );
  return r.stdout.trim();
}

export class Namespaces {
  private made: string[] = [];
  private procs: ChildProcess[] = [];

  constructor(private readonly prefix: string) {}

  name(n: string): string {
    return `${this.prefix}${n}`;
  }

  add(...names: string[]): void {
    for (const n of names) {
      const ns = this.name(n);
      sh(`ip netns del ${ns}`);
      must(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
      this.made.push(ns);
    }
  }

  /** A veth between two namespaces, each end with its address (CIDR) if given, both up. */
  wire(a: string, aIf: string, aAddr: string | undefined, b: string, bIf: string, bAddr: string | undefined): void {
    const [na, nb] = [this.name(a), this.name(b)];
    must(`ip -n ${na} link add ${aIf} type veth peer name ${bIf} netns ${nb}`);
    if (aAddr) must(`ip -n ${na} addr add ${aAddr} dev ${aIf}`);
    if (bAddr) must(`ip -n ${nb} addr add ${bAddr} dev ${bIf}`);
    must(`ip -n ${na} link set ${aIf} up && ip -n ${nb} link set ${bIf} up`);
  }

  /** A long-running process inside a namespace, killed at cleanup. */
  spawn(n: string, cmd: string, args: string[]): ChildProcess {
    const p = spawn("ip", ["netns", "exec", this.name(n), cmd, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.procs.push(p);
    return p;
  }

  /** Runs a command in a namespace; `out` is its standard output alone. */
  exec(n: string, cmd: string): { status: number; out: string } {
    const r = spawnSync("sh", ["-c", `ip netns exec ${this.name(n)} ${cmd}`], { encoding: "utf8", timeout: 20_000 });
    return { status: r.status ?? 1, out: r.stdout ?? "" };
  }

  cleanup(): void {
    for (const p of this.procs) p.kill("SIGKILL");
    for (const ns of this.made.reverse()) {
      // Processes a namespace still holds (dnsmasq forks away) go with it.
      sh(`ip netns pids ${ns} | xargs -r kill -9`);
      sh(`ip netns del ${ns}`);
    }
    this.made = [];
  }
}

/**
 * A namespace standing in for a guest: a veth whose outer end (named like the guest's
 * tap) is put on `bridge` in the node's namespace, the inner end with the guest's MAC.
 * `dhcp()` runs busybox udhcpc and returns what the lease said.
 */
export function standInGuest(
  nss: Namespaces,
  o: { name: string; node: string; tap: string; mac: string; bridge: string; dir: string },
) {
  nss.add(o.name);
  const g = nss.name(o.name);
  // The host side gets the MAC a driver gives a guest's tap (hypervisor/tap-name.ts' tapMac).
  must(`ip -n ${nss.name(o.node)} link add ${o.tap} address fe${o.mac.slice(2)} type veth peer name eth0 netns ${g}`);
  must(`ip -n ${g} link set eth0 address ${o.mac} && ip -n ${g} link set eth0 up`);
  must(`ip -n ${nss.name(o.node)} link set ${o.tap} master ${o.bridge} up`);
  const script = `${o.dir}/udhcpc-${o.name}.sh`;
  writeFileSync(
    script,
    `#!/bin/sh
case "$1" in bound|renew)
  ip addr flush dev "$interface"; ip addr add "$ip/$subnet" dev "$interface"
  [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
  ip route replace default via "$router"
  echo "ip=$ip subnet=$subnet router=$router hostname=$hostname mtu=$mtu serverid=$serverid" > "${o.dir}/lease-${o.name}"
esac
`,
  );
  chmodSync(script, 0o755);
  return {
    ns: g,
    dhcp(): string {
      const r = sh(
        `ip netns exec ${g} busybox udhcpc -i eth0 -n -q -f -t 6 -T 1 -O mtu -s ${script} && cat ${o.dir}/lease-${o.name}`,
      );
      if (r.status !== 0) throw new Error(`no lease for ${o.name}: ${r.out}`);
      return r.out;
    },
  };
}

/**
 * The cluster of the networking tests: a LAN namespace (a bridge, the "wire"), a head
 * (192.168.50.1) and two nodes (.2, .3) on it, and an outside client (198.51.100.2) on
 * the head's public side (pub0, 198.51.100.1).
 */
export function clusterTopology(nss: Namespaces): void {
  nss.add("lan", "head", "n1", "n2", "out");
  must(`ip -n ${nss.name("lan")} link add lan0 type bridge && ip -n ${nss.name("lan")} link set lan0 up`);
  for (const [n, addr] of [
    ["head", "192.168.50.1/24"],
    ["n1", "192.168.50.2/24"],
    ["n2", "192.168.50.3/24"],
  ] as const) {
    nss.wire("lan", `l-${n}`, undefined, n, "eth0", addr);
    must(`ip -n ${nss.name("lan")} link set l-${n} master lan0`);
  }
  nss.wire("head", "pub0", "198.51.100.1/24", "out", "pub1", "198.51.100.2/24");
}

/**
 * SYSTEM and STATIC's site: clusterTopology's LAN, each node's eth0 in a bridge br0 that
 * holds the node's address (as a site sets a node up for guests on its LAN), and a site
 * host on the LAN (192.168.50.254: the site's DHCP server in SYSTEM, and a client).
 */
export function lanTopology(nss: Namespaces): void {
  clusterTopology(nss);
  for (const [n, addr] of [
    ["n1", "192.168.50.2/24"],
    ["n2", "192.168.50.3/24"],
  ] as const) {
    const ns = nss.name(n);
    must(
      `ip -n ${ns} addr flush dev eth0 && ip -n ${ns} link add br0 type bridge && ip -n ${ns} link set eth0 master br0 && ip -n ${ns} addr add ${addr} dev br0 && ip -n ${ns} link set br0 up`,
    );
  }
  // The bridges' carrier and IPv6 link-local addresses settle first, so "before" is what stays.
  const settled = () =>
    ["n1", "n2"].every((n) => /^br0\s+UP\s.*fe80::/m.test(sh(`ip -n ${nss.name(n)} -br addr show br0`).out));
  for (let i = 0; i < 100 && !settled(); i++) spawnSync("sleep", ["0.1"]);
  nss.add("site");
  nss.wire("lan", "l-site", undefined, "site", "eth0", "192.168.50.254/24");
  must(`ip -n ${nss.name("lan")} link set l-site master lan0`);
}

/**
 * A site as the deployment guide lays it out: the head (192.168.50.1: CLC, Walrus), a
 * cluster host (192.168.50.4: CC, SC) that is the guests' gateway with its public side
 * (pub0, 198.51.100.1) towards an outside client (198.51.100.2), and two nodes (.2, .3).
 */
export function siteTopology(nss: Namespaces): void {
  nss.add("lan", "head", "cc", "n1", "n2", "out");
  must(`ip -n ${nss.name("lan")} link add lan0 type bridge && ip -n ${nss.name("lan")} link set lan0 up`);
  for (const [n, addr] of [
    ["head", "192.168.50.1/24"],
    ["cc", "192.168.50.4/24"],
    ["n1", "192.168.50.2/24"],
    ["n2", "192.168.50.3/24"],
  ] as const) {
    nss.wire("lan", `l-${n}`, undefined, n, "eth0", addr);
    must(`ip -n ${nss.name("lan")} link set l-${n} master lan0`);
  }
  nss.wire("cc", "pub0", "198.51.100.1/24", "out", "pub1", "198.51.100.2/24");
}
