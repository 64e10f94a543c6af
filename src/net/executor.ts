/**
 * Makes a host's network what a renderer said it should be, and takes it all away at
 * shutdown. Idempotent (applying the same state twice changes nothing) and driven by
 * what is really there: links and addresses are read back with `ip -j`, and what is to
 * be made is recorded before it is made, so after a crash the next apply removes what
 * the last run left. The nft tables go in one `nft -f`
 * transaction. What euca owns is recorded in a state file beside the role's database
 * (addresses on shared interfaces, the sysctl values it found), so only that is removed.
 *
 * Every command goes through the injected runner: the CC and NC run it on the host;
 * tests run it inside their own network namespace.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import type { Logger } from "pino";
import type { ProgramRunner } from "../common/run-program";
import { writeFileAtomic } from "../common/files";
import { createDhcpProcess } from "./dhcp-process";
import { emptyNetwork, OWNED_LINK, type AddressSpec, type HostNetwork, type LinkSpec } from "./host-network";
import { deleteScript, replaceScript } from "./nft/names";

export class NetworkCommandError extends Error {}

export interface ExecutorOptions {
  run: ProgramRunner;
  /** Where the state file lives (made 0700). */
  dir: string;
  /**
   * dnsmasq's files: it re-reads them on SIGHUP after dropping to its unprivileged user,
   * so this directory (and the path to it) must be readable by that user. They hold
   * MACs, addresses and host names, no secrets.
   */
  dhcpDir: string;
  log: Logger;
  /** Sends a signal to a process (dnsmasq's reload and stop); injected for tests of the reload logic. */
  kill?: (pid: number, signal: NodeJS.Signals | 0) => void;
}

interface Recorded {
  applied: HostNetwork;
  /** The values the sysctls had before euca set them. */
  sysctlsBefore: Record<string, string>;
  dhcpArgs?: string[];
}

export interface ApplyReport {
  commands: number;
  linksAdded: string[];
  linksRemoved: string[];
  addressesAdded: number;
  addressesRemoved: number;
  dhcp: "unchanged" | "started" | "reloaded" | "stopped" | "none";
}

interface IpLink {
  ifname: string;
  /** The lower device (a VLAN's). */
  link?: string;
  master?: string;
  flags?: string[];
  mtu?: number;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; link?: string } };
}

const isEmpty = (n: HostNetwork) =>
  !n.links.length &&
  !n.addresses.length &&
  !n.tables.length &&
  !Object.keys(n.sysctls).length &&
  !n.dhcp &&
  !Object.keys(n.translations).length;

export function createNetworkExecutor(o: ExecutorOptions) {
  const stateFile = `${o.dir}/applied.json`;
  const kill = o.kill ?? ((pid, sig) => process.kill(pid, sig));
  let commands = 0;

  async function sh(cmd: string, args: string[], input?: string, okCodes: number[] = [0]): Promise<string> {
    commands++;
    const r = await o.run(cmd, args, { input, timeoutMs: 30_000 });
    if (!okCodes.includes(r.code))
      throw new NetworkCommandError(
        `${cmd} ${args.join(" ")}: ${(r.stderr || r.stdout).trim().split("\n").slice(0, 5).join("; ")}`,
      );
    return r.stdout;
  }

  function load(): Recorded {
    if (!existsSync(stateFile)) return { applied: emptyNetwork(), sysctlsBefore: {} };
    return JSON.parse(readFileSync(stateFile, "utf8")) as Recorded;
  }
  const save = (r: Recorded) => writeFileAtomic(stateFile, JSON.stringify(r, null, 1), 0o600);

  async function links(): Promise<Map<string, IpLink>> {
    const all = JSON.parse((await sh("ip", ["-j", "-d", "link", "show"])) || "[]") as IpLink[];
    return new Map(all.filter((l) => OWNED_LINK.test(l.ifname)).map((l) => [l.ifname, l]));
  }

  const matches = (want: LinkSpec, have: IpLink): boolean => {
    if (have.linkinfo?.info_kind !== want.kind) return false;
    if (want.kind === "bridge") return !!have.flags?.includes("NOARP");
    if (want.kind === "veth") return have.master === want.master;
    if (want.kind === "vlan")
      return have.master === want.master && have.linkinfo?.info_data?.id === want.id && have.link === want.dev;
    const d = have.linkinfo?.info_data ?? {};
    return (
      d.id === want.vni &&
      d.local === want.local &&
      d.port === want.port &&
      (!want.dev || d.link === want.dev) &&
      have.master === want.master
    );
  };

  /**
   * Runs `ip` (or `bridge`) commands in one process: `-batch -` reads them from its input,
   * in order, stopping at the first that fails; `force` goes on past failures (deletions of
   * what may already be gone). A thousand segments cost a few processes, not thousands.
   */
  async function batch(tool: "ip" | "bridge", lines: string[], force = false): Promise<void> {
    if (!lines.length) return;
    await sh(tool, [...(force ? ["-force"] : []), "-batch", "-"], lines.join("\n") + "\n", force ? [0, 1, 2] : [0]);
  }

  async function applyLinks(
    want: readonly LinkSpec[],
    before: readonly LinkSpec[],
    report: ApplyReport,
  ): Promise<void> {
    const have = await links();
    const names = (l: LinkSpec) => (l.kind === "veth" ? [l.name, l.peer] : [l.name]);
    const wanted = new Set(want.flatMap(names));
    const made = new Set(before.flatMap(names));
    const dels: string[] = [];
    const adds: string[] = [];
    // Ports first (a vxlan goes before the bridge it is in), then the bridges.
    const stale = [...have.values()]
      .filter((l) => made.has(l.ifname) && !wanted.has(l.ifname))
      .sort((a, b) => Number(a.linkinfo?.info_kind === "bridge") - Number(b.linkinfo?.info_kind === "bridge"));
    for (const l of stale) {
      dels.push(`link del ${l.ifname}`);
      report.linksRemoved.push(l.ifname);
    }
    const ordered = [...want].sort((a, b) => Number(b.kind === "bridge") - Number(a.kind === "bridge"));
    for (const l of ordered) {
      const h = have.get(l.name);
      const ok = !!h && matches(l, h);
      if (h && !ok) dels.push(`link del ${l.name}`);
      if (!ok) {
        // A segment bridge holds no address; NOARP keeps it from answering ARP for the host's
        // own (the gateway's are on its veth), so guests send to the gateway's MAC.
        if (l.kind === "bridge") adds.push(`link add ${l.name} type bridge`, `link set ${l.name} arp off`);
        else if (l.kind === "veth") {
          dels.push(`link del ${l.peer}`); // a peer left alone by a crash
          adds.push(`link add ${l.name} type veth peer name ${l.peer}`, `link set ${l.name} master ${l.master}`);
          if (l.mtu) adds.push(`link set ${l.name} mtu ${l.mtu}`, `link set ${l.peer} mtu ${l.mtu}`);
          adds.push(`link set ${l.peer} up`);
        } else if (l.kind === "vlan") {
          adds.push(
            `link add link ${l.dev} name ${l.name} type vlan id ${l.id}`,
            `link set ${l.name} master ${l.master}`,
          );
        } else {
          adds.push(
            `link add ${l.name} type vxlan id ${l.vni} local ${l.local} dstport ${l.port}${l.dev ? ` dev ${l.dev}` : ""}`,
            `link set ${l.name} master ${l.master}`,
          );
        }
        report.linksAdded.push(l.name);
      }
      if (l.kind === "vxlan" && l.mtu && (!ok || h?.mtu !== l.mtu)) adds.push(`link set ${l.name} mtu ${l.mtu}`);
      if (!ok || !h?.flags?.includes("UP")) adds.push(`link set ${l.name} up`);
    }
    await batch("ip", dels, true);
    await batch("ip", adds);
    await applyFlood(want.filter((l): l is Extract<LinkSpec, { kind: "vxlan" }> => l.kind === "vxlan"));
  }

  /** The all-zero FDB entries: where each vxlan port floods broadcast and unknown unicast. */
  async function applyFlood(vxlans: ReadonlyArray<Extract<LinkSpec, { kind: "vxlan" }>>): Promise<void> {
    if (!vxlans.length) return;
    const fdb = JSON.parse((await sh("bridge", ["-j", "fdb", "show"])) || "[]") as Array<{
      mac: string;
      ifname?: string;
      dst?: string;
    }>;
    const lines: string[] = [];
    for (const l of vxlans) {
      const have = new Set(
        fdb.filter((e) => e.ifname === l.name && e.mac === "00:00:00:00:00:00" && e.dst).map((e) => e.dst!),
      );
      const want = new Set(l.peers);
      for (const d of have) if (!want.has(d)) lines.push(`fdb del 00:00:00:00:00:00 dev ${l.name} dst ${d}`);
      for (const d of want) if (!have.has(d)) lines.push(`fdb append 00:00:00:00:00:00 dev ${l.name} dst ${d}`);
    }
    await batch("bridge", lines);
  }

  async function addressesOn(): Promise<Set<string>> {
    const all = JSON.parse((await sh("ip", ["-j", "addr", "show"])) || "[]") as Array<{
      ifname: string;
      addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
    }>;
    return new Set(
      all.flatMap((l) =>
        (l.addr_info ?? []).filter((a) => a.family === "inet").map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`),
      ),
    );
  }

  const key = (a: AddressSpec) => `${a.dev} ${a.cidr}`;

  async function applyAddresses(
    want: readonly AddressSpec[],
    before: readonly AddressSpec[],
    report: ApplyReport,
  ): Promise<void> {
    const present = await addressesOn();
    const wanted = new Set(want.map(key));
    const gone = before.filter((a) => !wanted.has(key(a)) && present.has(key(a)));
    const added = want.filter((a) => !present.has(key(a)));
    await batch(
      "ip",
      gone.map((a) => `addr del ${a.cidr} dev ${a.dev}`),
      true,
    );
    await batch(
      "ip",
      added.map((a) => `addr add ${a.cidr} dev ${a.dev}`),
    );
    report.addressesRemoved += gone.length;
    report.addressesAdded += added.length;
    // Neighbours that cached an address at another MAC learn the new one. arping takes a
    // second to finish, so it is not waited for; not having it is not fatal.
    for (const a of added.filter((x) => x.announce)) {
      void sh("arping", ["-U", "-c", "1", "-I", a.dev, a.cidr.split("/")[0]!], undefined, [0, 1, 2]).catch((e: Error) =>
        o.log.warn({ err: e.message }, "net: gratuitous ARP not sent"),
      );
    }
  }

  async function applySysctls(want: Record<string, string>, r: Recorded): Promise<void> {
    // One no longer wanted gets the value it had before euca set it.
    for (const [k, v] of Object.entries(r.sysctlsBefore)) {
      if (k in want) continue;
      await sh("sysctl", ["-qw", `${k}=${v}`]);
      delete r.sysctlsBefore[k];
    }
    for (const [k, v] of Object.entries(want)) {
      const cur = (await sh("sysctl", ["-n", k])).trim();
      if (!(k in r.sysctlsBefore)) r.sysctlsBefore[k] = cur;
      if (cur !== v) await sh("sysctl", ["-qw", `${k}=${v}`]);
    }
  }

  async function flushTranslations(before: Record<string, string>, after: Record<string, string>): Promise<void> {
    for (const [pub, priv] of Object.entries(before)) {
      if (after[pub] === priv) continue; // still the same instance's
      // The flows translated to or from the public address: in through it (DNAT), and out
      // of the instance as it (SNAT: the reply comes back to it). Exit 1: none matched.
      await sh("conntrack", ["-D", "--orig-dst", pub], undefined, [0, 1]);
      await sh("conntrack", ["-D", "--reply-dst", pub], undefined, [0, 1]);
    }
  }

  const dhcp = createDhcpProcess({ dir: o.dhcpDir, kill, sh });

  return {
    /** Makes the host's euca network `want`; returns what it changed. */
    async apply(want: HostNetwork): Promise<ApplyReport> {
      mkdirSync(o.dir, { recursive: true, mode: 0o700 });
      commands = 0;
      const r = load();
      const report: ApplyReport = {
        commands: 0,
        linksAdded: [],
        linksRemoved: [],
        addressesAdded: 0,
        addressesRemoved: 0,
        dhcp: "none",
      };
      // Nothing wanted and nothing made (a SYSTEM CC, a node without guests): no command at all.
      if (isEmpty(want) && isEmpty(r.applied) && !Object.keys(r.sysctlsBefore).length && !dhcp.pid()) return report;
      await applySysctls(want.sysctls, r);
      // Record first what is about to be owned, so a crash part-way still knows to remove it.
      save({
        ...r,
        applied: {
          ...want,
          links: [...r.applied.links, ...want.links],
          addresses: [...r.applied.addresses, ...want.addresses],
          tables: [...r.applied.tables, ...want.tables],
          translations: { ...want.translations, ...r.applied.translations },
        },
      });
      await applyLinks(want.links, r.applied.links, report);
      await applyAddresses(want.addresses, r.applied.addresses, report);
      const gone = r.applied.tables.filter((t) => !want.tables.some((w) => w.family === t.family && w.name === t.name));
      await sh("nft", ["-f", "-"], replaceScript(want.tables) + deleteScript(gone));
      await flushTranslations(r.applied.translations, want.translations);
      const d = await dhcp.apply(want.dhcp, r.dhcpArgs);
      report.dhcp = d.outcome;
      r.dhcpArgs = d.args;
      save({ ...r, applied: want });
      report.commands = commands;
      return report;
    },

    /**
     * The elements of one of euca's nft sets, each as its parts ("tap . address" → two
     * strings); none when the set (or its table) is not there.
     */
    async setElements(family: "bridge" | "inet" | "ip", table: string, set: string): Promise<string[][]> {
      const out = await sh("nft", ["-j", "list", "set", family, table, set], undefined, [0, 1]).catch(() => "");
      type Elem = string | { concat: string[] } | { elem: { val: string | { concat: string[] } } };
      const parsed = (() => {
        try {
          return JSON.parse(out || "{}") as { nftables?: Array<{ set?: { elem?: Elem[] } }> };
        } catch {
          return {};
        }
      })();
      const elems = parsed.nftables?.find((x) => x.set)?.set?.elem ?? [];
      return elems.map((e) => {
        const v = typeof e === "object" && "elem" in e ? e.elem.val : e;
        return typeof v === "object" ? v.concat.map(String) : [String(v)];
      });
    },

    /** Removes everything euca made on the host and puts the sysctls back. */
    async teardown(): Promise<void> {
      const r = load();
      dhcp.stop();
      await sh("nft", ["-f", "-"], deleteScript(r.applied.tables));
      const present = await addressesOn();
      await batch(
        "ip",
        r.applied.addresses.filter((a) => present.has(key(a))).map((a) => `addr del ${a.cidr} dev ${a.dev}`),
        true,
      );
      const made = new Set(r.applied.links.flatMap((l) => (l.kind === "veth" ? [l.name, l.peer] : [l.name])));
      const have = [...(await links()).values()].filter((l) => made.has(l.ifname));
      const ports = have.filter((l) => l.linkinfo?.info_kind !== "bridge"),
        bridges = have.filter((l) => l.linkinfo?.info_kind === "bridge");
      await batch(
        "ip",
        [...ports, ...bridges].map((l) => `link del ${l.ifname}`),
        true,
      );
      await flushTranslations(r.applied.translations, {});
      for (const [k, v] of Object.entries(r.sysctlsBefore)) await sh("sysctl", ["-qw", `${k}=${v}`]);
      rmSync(stateFile, { force: true });
      rmSync(o.dhcpDir, { recursive: true, force: true });
    },
  };
}

export type NetworkExecutor = ReturnType<typeof createNetworkExecutor>;
