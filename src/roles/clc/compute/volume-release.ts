/**
 * Volumes let go of their instances: when a node has detached one (or a kept detach is
 * finally carried out), when its instance ended — and then, when marked
 * DeleteOnTermination, deleted — and as the clusters' reports say what is attached.
 */
import { eq, inArray } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../../common/clock";
import type { CallContext } from "../../../rpc/types";
import type { ClusterInstance } from "../../cc/client";
import type { StorageClient } from "../../sc/client";
import type { ClcDatabase } from "../database";
import { volumes } from "../schema";
import type { Intents } from "./intents";
import type { Zone } from "./zone";

type VolumeRecord = typeof volumes.$inferSelect;

/** How long after an attachment a node's report must show it. */
const ATTACH_SETTLE_MS = 30_000;
const detached = { instanceId: null, device: null, attachState: null, attachedAt: null } as const;

export function createVolumeRelease(o: {
  db: ClcDatabase;
  clock: Clock;
  zones: () => Zone[];
  intents: Intents;
  log: Logger;
  zone: (name: string) => Zone;
  storageOf: (name: string) => StorageClient;
  set: (id: string, patch: Partial<VolumeRecord>) => unknown;
}) {
  const { db } = o.db;
  const { set, zone, storageOf } = o;

  /**
   * The node let go of the volume: its export goes, it is available again (or still being
   * made), any detach intent is done. `ended`: its instance is gone, and a volume marked
   * DeleteOnTermination goes with it — at once, or once its SC has made it (sync).
   */
  async function letGo(v: VolumeRecord, ctx: CallContext, ended = false): Promise<void> {
    const storage = o.zones().find((z) => z.name === v.zone)?.storage;
    await storage?.unexportVolume({ volumeId: v.id, instanceId: v.instanceId! }, ctx).catch(() => undefined);
    const drop = ended && v.deleteOnTermination;
    const making = v.state === "creating";
    set(v.id, { ...detached, state: making ? "creating" : "available", deleteOnTermination: drop });
    o.intents.done("detach", v.id);
    if (drop && !making) await deleteWithInstance(v, ctx);
  }

  /** A DeleteOnTermination volume whose instance ended; one its SC still holds back is tried again by sync. */
  async function deleteWithInstance(v: VolumeRecord, ctx: CallContext): Promise<void> {
    try {
      await storageOf(v.zone).deleteVolume({ volumeId: v.id }, ctx);
      set(v.id, { state: "deleting", deleteOnTermination: false });
      o.log.info({ requestId: ctx.requestId, volumeId: v.id }, "clc: volume deleted with its instance");
    } catch (e) {
      o.log.warn(
        { requestId: ctx.requestId, volumeId: v.id, err: (e as Error).message },
        "clc: a volume to delete with its instance is kept for now; retried",
      );
    }
  }

  /** Detaches whose time to retry has come. */
  async function retryDetaches(ctx: CallContext): Promise<void> {
    for (const i of o.intents.due("detach")) {
      const v = db.select().from(volumes).where(eq(volumes.id, i.target)).get();
      if (!v || v.attachState !== "detaching" || !v.instanceId) {
        o.intents.done("detach", i.target); // let go meanwhile (its instance ended, a forced detach)
        continue;
      }
      try {
        await zone(v.zone).cluster.detachVolume({ instanceId: v.instanceId, volumeId: v.id }, ctx);
      } catch (e) {
        o.intents.failed("detach", v.id, (e as Error).message);
        continue;
      }
      await letGo(v, ctx);
      o.log.info(
        { requestId: ctx.requestId, volumeId: v.id, instanceId: v.instanceId },
        "clc: a kept detach was carried out",
      );
    }
  }

  /**
   * From the clusters' instance reports: an attachment the node no longer has (its
   * instance ended, or was torn down) is let go, and the volume is available again.
   */
  async function reconcileAttachments(
    reports: ReadonlyMap<string, ClusterInstance | undefined>,
    ended: ReadonlySet<string>,
    ctx: CallContext,
  ): Promise<void> {
    const attached = db
      .select()
      .from(volumes)
      .where(inArray(volumes.attachState, ["attaching", "attached", "detaching"]))
      .all();
    // A report made before the attachment may not show it yet; a silent node's last report says nothing new.
    const settled = o.clock.now().getTime() - ATTACH_SETTLE_MS;
    for (const v of attached) {
      const r = reports.get(v.instanceId!);
      // A launch's volume its guest runs with (its CLC restarted before it recorded the attachment).
      if (v.attachState === "attaching" && r?.state === "Extant" && r.volumes?.some((x) => x.volumeId === v.id)) {
        set(v.id, { attachState: "attached", state: "in-use" });
        continue;
      }
      const missing =
        r !== undefined &&
        r.unreportedSince === undefined &&
        v.attachState === "attached" &&
        !r.volumes?.some((x) => x.volumeId === v.id) &&
        (v.attachedAt?.getTime() ?? 0) < settled;
      if (!ended.has(v.instanceId!) && !missing) continue;
      await letGo(v, ctx, ended.has(v.instanceId!));
      o.log.info(
        { requestId: ctx.requestId, volumeId: v.id, instanceId: v.instanceId },
        "clc: the volume's instance let go of it; available again",
      );
    }
  }

  return { letGo, deleteWithInstance, retryDetaches, reconcileAttachments };
}
