/**
 * Availability zones: one per registered cluster. The admin's `verbose` listing is
 * Eucalyptus' free/max table per VM type, from the cluster's node capacity
 * (reference §5.4).
 */
import type { CallContext } from "../../../rpc/types";
import { NotFoundError } from "../../../common/errors";
import type { ClusterClient, NodeStatus } from "../../cc/client";
import type { VmTypeService } from "./vm-types";

export interface ZoneInfo {
  zoneName: string;
  zoneState: string;
  regionName: string;
  messages: string[];
}

export interface RegisteredCluster {
  name: string;
  client: ClusterClient;
}

function pad(n: number, width: number, fill = " "): string {
  return String(n).padStart(width, fill);
}

/** Eucalyptus' STATE_FSTRING "%04d / %04d  %2d   %4d  %4d". */
/** A node's verbose line: its state, last contact and instances. */
export function nodeRow(n: NodeStatus): string {
  const unknown = n.unknown.length ? `, ${n.unknown.length} unknown` : "";
  return `${n.state.padEnd(7)} ${n.instances} instance${n.instances === 1 ? "" : "s"}${unknown}, last contact ${n.lastContact ?? "never"}`;
}

export function verboseRow(free: number, max: number, cpus: number, memoryMb: number, diskGb: number): string {
  return `${pad(free, 4, "0")} / ${pad(max, 4, "0")}  ${pad(cpus, 2)}   ${pad(memoryMb, 4)}  ${pad(diskGb, 4)}`;
}

export function createZoneService(o: {
  region: string;
  clusters: () => readonly RegisteredCluster[];
  vmTypes: VmTypeService;
}) {
  async function state(c: RegisteredCluster, ctx: CallContext): Promise<{ zone: ZoneInfo; host?: string }> {
    try {
      const info = await c.client.describeCluster({}, ctx);
      return {
        zone: { zoneName: c.name, zoneState: "available", regionName: o.region, messages: [] },
        host: info.host,
      };
    } catch (e) {
      return {
        zone: { zoneName: c.name, zoneState: "unavailable", regionName: o.region, messages: [(e as Error).message] },
      };
    }
  }

  return {
    /** The zones, optionally only those named; an unknown name is an error (as in AWS). */
    async describe(names: readonly string[], ctx: CallContext): Promise<ZoneInfo[]> {
      const clusters = o.clusters();
      for (const n of names) if (!clusters.some((c) => c.name === n)) throw new NotFoundError("availability zone", n);
      const wanted = names.length ? clusters.filter((c) => names.includes(c.name)) : clusters;
      return Promise.all(wanted.map(async (c) => (await state(c, ctx)).zone));
    },

    /** The admin's verbose table, one ZoneInfo line per row as euca2ools prints them. */
    async describeVerbose(ctx: CallContext): Promise<ZoneInfo[]> {
      const types = o.vmTypes.list();
      const rows: ZoneInfo[] = [];
      const line = (zoneName: string, zoneState: string) =>
        rows.push({ zoneName, zoneState, regionName: o.region, messages: [] });
      for (const c of o.clusters()) {
        const s = await state(c, ctx);
        line(c.name, s.host ?? s.zone.zoneState);
        line("|- vm types", "free / max   cpu   ram  disk");
        let resources: Array<{ name: string; available: number; max: number }> = [];
        if (s.host !== undefined) {
          try {
            resources = (await c.client.describeResources({ vmTypes: types }, ctx)).resources;
          } catch {
            resources = [];
          }
        }
        for (const t of types) {
          const r = resources.find((x) => x.name === t.name) ?? { available: 0, max: 0 };
          line(`|- ${t.name}`, verboseRow(r.available, r.max, t.cpus, t.memoryMb, t.diskGb));
        }
        // Each node's health, as Eucalyptus listed its nodes under the zone.
        const nodes =
          s.host === undefined
            ? []
            : await c.client.describeNodes({}, ctx).then(
                (r) => r.nodes,
                () => [],
              );
        for (const n of nodes) line(`|- ${n.name}`, nodeRow(n));
      }
      return rows;
    },
  };
}

export type ZoneService = ReturnType<typeof createZoneService>;
