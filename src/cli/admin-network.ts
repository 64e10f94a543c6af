/**
 * `euca admin network [--cluster C]`: a cluster's network — segments or the LAN with their
 * members, instances with their addresses, groups with their rule counts, and what each
 * node last took (a digest of its part and when). With the admin's eucarc sourced, as the
 * running CC records it (through the CLC, from any host); else (or with --local) from the
 * CC's database on its host.
 */
import { Command } from "commander";
import { dataDirLayout } from "../common/data-dir";
import { gatewaySettingsOf, isBridged } from "../config/network";
import { listRemoteNodes, nodeAddressOf } from "../roles/cc/node-registry";
import { networkReportOf, type ClusterNetworkReport } from "../roles/cc/network-report";
import { openCcDatabase, placements } from "../roles/cc/database";
import { ec2Call } from "./image/signed-http";
import { items, localOption, remoteAdmin } from "./admin-remote";
import { settingsOf, withSettings, type CliIo } from "./settings-flags";
import type { Settings } from "../config/settings";

export function networkCommand(io: CliIo, table: (rows: string[][]) => string): Command {
  const cmd = localOption(
    withSettings(new Command("network"), [
      "dataDir",
      "vnetMode",
      "vnetSubnet",
      "vnetAddrsPerNet",
      "vnetLocalIp",
      "vnetPubInterface",
      "vnetBridge",
      "vnetPrivInterface",
      "vnetMacMap",
      "host",
      "hypervisor",
    ]),
  )
    .description(
      "show a cluster's network (every mode but ROOTLESS): segments or the LAN, instances, groups, " +
        "and what each node took — from the running CC with the admin's eucarc sourced, else from this CC host's database",
    )
    .option("--cluster <name>", "the cluster to show, when the cloud has more than one (with the admin's eucarc)")
    .option("--json", "print the report as JSON");
  cmd.action(async () => {
    const o = cmd.opts<{ json?: boolean; cluster?: string }>();
    const env = remoteAdmin(cmd, io);
    const report = env
      ? fromXml(await ec2Call(env, "DescribeClusterNetwork", o.cluster ? { ClusterName: o.cluster } : {}))
      : localReport(settingsOf(cmd, io));
    if (o.json) io.out(JSON.stringify(report, null, 1) + "\n");
    else io.out(render(report, table));
  });
  return cmd;
}

/** From the CC's database on this host (a stopped CC, or no credentials). */
function localReport(s: Settings): ClusterNetworkReport {
  if (!isBridged(s))
    throw new Error(`VNET_MODE is ${s.vnetMode}: there is no cluster network to show (docs/networking.md)`);
  const db = openCcDatabase(dataDirLayout(s.dataDir).database("cc"));
  try {
    const gateway = gatewaySettingsOf(s);
    const remote = new Set(listRemoteNodes(db).map((n) => n.name));
    const placed = db.db
      .select({ node: placements.node })
      .from(placements)
      .all()
      .map((r) => r.node);
    return networkReportOf({
      db,
      gateway,
      nodeAddress: nodeAddressOf(db, gateway.underlay, (n) => !remote.has(n)),
      nodeNames: [...new Set([...remote, ...placed])],
    });
  } finally {
    db.close();
  }
}

/** The admin action's answer (every value a string, lists as items) as a report. */
function fromXml(x: Record<string, unknown>): ClusterNetworkReport {
  const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  const lan = x.lan as { bridge?: string; dhcp?: Record<string, string> } | undefined;
  const gateway = (x.gateway ?? {}) as Record<string, string>;
  return {
    mode: str(x.mode),
    privateRange: str(x.privateRange),
    gateway: { underlay: str(gateway.underlay), publicDev: str(gateway.publicDev) },
    ...(lan
      ? {
          lan: {
            bridge: str(lan.bridge),
            ...(lan.dhcp
              ? {
                  dhcp: {
                    dev: str(lan.dhcp.dev),
                    server: str(lan.dhcp.server),
                    cidr: str(lan.dhcp.cidr),
                    ...(lan.dhcp.router ? { router: str(lan.dhcp.router) } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
    segments: items<Record<string, string>>(x.segments).map((g) => ({
      bridge: str(g.bridge),
      vlan: Number(g.vlan),
      cidr: str(g.cidr),
      gateway: str(g.gateway),
      guests: Number(g.guests),
    })),
    instances: items<Record<string, string>>(x.instances).map((i) => ({
      instanceId: str(i.instanceId),
      node: str(i.node),
      privateIp: str(i.privateIp),
      publicIp: str(i.publicIp),
      mac: str(i.mac),
      groups: str(i.groups),
    })),
    groups: items<Record<string, string>>(x.groups).map((g) => ({
      groupId: str(g.groupId),
      rules: Number(g.rules),
      members: Number(g.members),
    })),
    nodes: items<Record<string, string>>(x.nodes).map((n) => ({
      name: str(n.name),
      address: str(n.address),
      guests: Number(n.guests),
      ...(n.applied ? { applied: str(n.applied), appliedAt: str(n.appliedAt) } : {}),
    })),
  };
}

function render(r: ClusterNetworkReport, table: (rows: string[][]) => string): string {
  const out: string[] = [];
  if (r.lan) {
    const d = r.lan.dhcp;
    const by = d
      ? `this CC's DHCP on ${d.dev} at ${d.server} (${d.cidr}${d.router ? `, router ${d.router}` : ""})`
      : "the site's DHCP";
    out.push(`mode ${r.mode}  guests on the site's LAN (bridge ${r.lan.bridge} on each node), addressed by ${by}\n\n`);
  } else {
    out.push(
      `mode ${r.mode}  private ${r.privateRange}  gateway ${r.gateway.underlay} (public interface ${r.gateway.publicDev})\n\n`,
      table([
        ["SEGMENT", "VLAN/VNI", "CIDR", "GATEWAY", "GUESTS"],
        ...r.segments.map((g) => [g.bridge, String(g.vlan), g.cidr, g.gateway, String(g.guests)]),
      ]) + "\n",
    );
  }
  out.push(
    table([
      ["INSTANCE", "NODE", "PRIVATE", "PUBLIC", "MAC", "GROUPS"],
      ...r.instances.map((i) => [
        i.instanceId,
        i.node,
        i.privateIp || "(not seen yet)",
        i.publicIp || "-",
        i.mac,
        i.groups,
      ]),
    ]) + "\n",
    table([["GROUP", "RULES", "MEMBERS"], ...r.groups.map((g) => [g.groupId, String(g.rules), String(g.members)])]) +
      "\n",
    table([
      ["NODE", "ADDRESS", "GUESTS", "APPLIED", "AT"],
      ...r.nodes.map((n) => [n.name, n.address || "-", String(n.guests), n.applied ?? "never", n.appliedAt ?? "-"]),
    ]),
  );
  return out.join("");
}
