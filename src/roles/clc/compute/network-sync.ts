/**
 * Tells the clusters what their networks are made from whenever it changes: a group's
 * rules (Authorize / Revoke / Delete), an instance's public address (Associate,
 * Disassociate, Release). The call returns once the cluster has its nodes in line, so
 * an API call that answers has its rules in force. A cluster that cannot be reached
 * is sent everything (`complete`) on the next sync round, as is every cluster the CLC
 * has not seen yet (all of them at start, and one registered since).
 */
import { inArray } from "drizzle-orm";
import type { Logger } from "pino";
import type { CallContext } from "../../../rpc/types";
import type { NetworkUpdate } from "../../cc/client";
import type { ClcDatabase } from "../database";
import { instances } from "../schema";
import type { AddressService } from "./addresses";
import type { SecurityGroupService } from "./security-groups";
import type { RegisteredCluster } from "./zones";

/** Longer than the cluster's own wait for its nodes (UPDATE_WAIT_MS), so a slow node is the cluster's to report. */
export const SEND_WAIT_MS = 8000;

export function createNetworkSync(o: {
  db: ClcDatabase;
  clusters: () => readonly RegisteredCluster[];
  groups: SecurityGroupService;
  addresses: AddressService;
  log: Logger;
}) {
  const { db } = o.db;
  /** Zones that missed an update; zones sent everything since this CLC started. */
  const behind = new Set<string>();
  const seen = new Set<string>();

  function live() {
    return db
      .select({ id: instances.id, zone: instances.zone, groups: instances.groups })
      .from(instances)
      .where(inArray(instances.state, ["pending", "running", "shutting-down"]))
      .all()
      .map((r) => ({
        id: r.id,
        zone: r.zone,
        groupIds: (JSON.parse(r.groups) as Array<{ id: string }>).map((g) => g.id),
      }));
  }

  /** Sends an update, waiting at most SEND_WAIT_MS: a cluster that does not answer holds up no API call, and is sent everything later. */
  async function send(zone: string, update: NetworkUpdate, ctx: CallContext): Promise<void> {
    const c = o.clusters().find((x) => x.name === zone);
    if (!c) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${SEND_WAIT_MS} ms`)), SEND_WAIT_MS)),
    );
    try {
      await Promise.race([c.client.updateNetwork(update, ctx), late]);
    } catch (e) {
      behind.add(zone);
      o.log.warn(
        { requestId: ctx.requestId, zone, err: (e as Error).message },
        "clc: the cluster did not take a network change; it is sent everything on the next sync",
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Everything a zone's network is made from: its live instances, their groups and public addresses. */
  function everything(zone: string): NetworkUpdate {
    const mine = live().filter((i) => i.zone === zone);
    const ips = o.addresses.publicIpsOf(mine.map((i) => i.id));
    return {
      groups: o.groups.rulesOf(mine.flatMap((i) => i.groupIds)),
      instances: mine.map((i) => ({ instanceId: i.id, groupIds: i.groupIds, publicIp: ips.get(i.id) ?? null })),
      complete: true,
    };
  }

  return {
    /** The rules of these groups changed: zones with members get them. */
    async groupsChanged(groupIds: readonly string[], ctx: CallContext): Promise<void> {
      const wanted = new Set(groupIds);
      const zones = new Set(
        live()
          .filter((i) => i.groupIds.some((g) => wanted.has(g)))
          .map((i) => i.zone),
      );
      const groups = o.groups.rulesOf(groupIds);
      await Promise.all([...zones].map((z) => send(z, { groups }, ctx)));
    },

    /** These instances' public addresses changed. */
    async addressesChanged(instanceIds: ReadonlyArray<string | null | undefined>, ctx: CallContext): Promise<void> {
      const wanted = new Set(instanceIds.filter((x): x is string => !!x));
      const byZone = new Map<string, string[]>();
      for (const i of live().filter((x) => wanted.has(x.id))) byZone.set(i.zone, [...(byZone.get(i.zone) ?? []), i.id]);
      await Promise.all(
        [...byZone].map(([zone, ids]) => {
          const ips = o.addresses.publicIpsOf(ids);
          return send(
            zone,
            { instances: ids.map((instanceId) => ({ instanceId, publicIp: ips.get(instanceId) ?? null })) },
            ctx,
          );
        }),
      );
    },

    /** Sends everything to zones that missed an update and to zones not seen before. */
    async resync(ctx: CallContext): Promise<void> {
      for (const c of o.clusters()) {
        if (!seen.has(c.name)) behind.add(c.name);
        seen.add(c.name);
      }
      const zones = [...behind];
      behind.clear();
      await Promise.all(
        zones.map(async (zone) => {
          const all = everything(zone);
          o.log.info(
            { requestId: ctx.requestId, zone, instances: all.instances!.length, groups: all.groups!.length },
            "clc: sending the cluster everything its network is made from",
          );
          await send(zone, all, ctx);
        }),
      );
    },
  };
}

export type NetworkSync = ReturnType<typeof createNetworkSync>;
