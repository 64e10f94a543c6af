/**
 * `euca admin network` (run on the CC host): the cluster's MANAGED network as the CC
 * records it — segments with their members, instances with their addresses, groups with
 * their rule counts, and what each node last took (a digest of its part and when).
 */
import { Command } from "commander";
import { dataDirLayout } from "../common/data-dir";
import { isBridged } from "../config/network";
import { gatewaySettingsOf } from "../config/network";
import { nodeAddressOf } from "../roles/cc/node-registry";
import { clusterViewOf } from "../roles/cc/cluster-view";
import { nodeNetworks, openCcDatabase, placements } from "../roles/cc/database";
import { listRemoteNodes } from "../roles/cc/node-registry";
import { segmentLinks } from "../net/managed";
import { settingsOf, withSettings, type CliIo } from "./settings-flags";

export function networkCommand(io: CliIo, table: (rows: string[][]) => string): Command {
  const cmd = withSettings(new Command("network"), [
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
  ])
    .description(
      "show the cluster's network (every mode but ROOTLESS): segments or the LAN, instances, groups, and what each node took",
    )
    .option("--json", "print the view as JSON");
  cmd.action(() => {
    const s = settingsOf(cmd, io);
    if (!isBridged(s))
      throw new Error(`VNET_MODE is ${s.vnetMode}: there is no cluster network to show (docs/networking.md)`);
    const db = openCcDatabase(dataDirLayout(s.dataDir).database("cc"));
    try {
      const gateway = gatewaySettingsOf(s);
      const remote = new Set(listRemoteNodes(db).map((n) => n.name));
      const placed = [
        ...new Set(
          db.db
            .select({ node: placements.node })
            .from(placements)
            .all()
            .map((r) => r.node),
        ),
      ];
      const names = [...new Set([...remote, ...placed])];
      const view = clusterViewOf({
        db,
        gateway,
        nodeAddress: nodeAddressOf(db, gateway.underlay, (n) => !remote.has(n)),
        nodeNames: names,
      });
      const applied = new Map(
        db.db
          .select()
          .from(nodeNetworks)
          .all()
          .map((r) => [r.node, r]),
      );
      if (cmd.opts<{ json?: boolean }>().json) {
        io.out(JSON.stringify({ view, applied: Object.fromEntries(applied) }, null, 1) + "\n");
        return;
      }
      if (view.lan) {
        const d = view.lan.dhcp;
        const by = d
          ? `this CC's DHCP on ${d.dev} at ${d.server} (${d.cidr}${d.router ? `, router ${d.router}` : ""})`
          : "the site's DHCP";
        io.out(
          `mode ${view.mode}  guests on the site's LAN (bridge ${view.lan.bridge} on each node), addressed by ${by}\n\n`,
        );
      } else {
        io.out(
          `mode ${view.mode}  private ${view.privateRange}  gateway ${view.gateway.underlay} (public interface ${view.gateway.publicDev})\n\n`,
        );
        io.out(
          table([
            ["SEGMENT", "VLAN/VNI", "CIDR", "GATEWAY", "GUESTS"],
            ...view.segments.map((g) => [
              segmentLinks(view.mode, g.vlan).bridge,
              String(g.vlan),
              g.cidr,
              g.gateway,
              String(view.instances.filter((i) => i.vlan === g.vlan).length),
            ]),
          ]) + "\n",
        );
      }
      io.out(
        table([
          ["INSTANCE", "NODE", "PRIVATE", "PUBLIC", "MAC", "GROUPS"],
          ...view.instances.map((i) => [
            i.instanceId,
            i.node,
            i.ip || "(not seen yet)",
            i.publicIp ?? "-",
            i.mac,
            i.groupIds.join(","),
          ]),
        ]) + "\n",
      );
      const groups = [...new Set(view.instances.flatMap((i) => i.groupIds))].sort();
      io.out(
        table([
          ["GROUP", "RULES", "MEMBERS"],
          ...groups.map((g) => [
            g,
            String(view.rules[g]?.length ?? 0),
            String(view.instances.filter((i) => i.groupIds.includes(g)).length),
          ]),
        ]) + "\n",
      );
      io.out(
        table([
          ["NODE", "ADDRESS", "GUESTS", "APPLIED", "AT"],
          ...names.map((n) => {
            const a = applied.get(n);
            return [
              n,
              view.nodes[n] ?? "-",
              String(view.instances.filter((i) => i.node === n).length),
              a?.digest ?? "never",
              a ? a.appliedAt.toISOString() : "-",
            ];
          }),
        ]),
      );
    } finally {
      db.close();
    }
  });
  return cmd;
}
