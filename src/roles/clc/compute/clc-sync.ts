/**
 * The CLC's rounds, once the listeners are bound: instances reconciled after a restart and
 * every cluster told every group and address again (one may have missed a change before a
 * crash); then each poll the instances, volumes, snapshots and the images made of them are
 * brought in line with what the clusters report and the network pushed again.
 */
import type { Logger } from "pino";
import type { IdGenerator } from "../../../common/ids";
import { every } from "../../../common/periodic";
import type { InstanceService } from "./instances";
import type { NetworkSync } from "./network-sync";
import type { SnapshotService } from "./snapshots";
import type { ImageMaker } from "./create-image";
import type { VolumeService } from "./volumes";

export async function startClcSync(o: {
  pollMs: number;
  instances: InstanceService;
  volumes: VolumeService;
  snapshots: SnapshotService;
  imageMaker: ImageMaker;
  network: NetworkSync;
  ids: IdGenerator;
  log: Logger;
}): Promise<() => Promise<void>> {
  const lost = await o.instances.reconcile({ requestId: o.ids.requestId() });
  if (lost.length) o.log.warn({ instances: lost }, "clc: terminated instances whose launch a restart interrupted");
  await o.network.resync({ requestId: o.ids.requestId() });
  return every(
    o.pollMs,
    async (n) => {
      await o.instances.sync({ requestId: `clc-sync-${n}` });
      await o.volumes.sync({ requestId: `clc-volumes-${n}` });
      await o.snapshots.sync({ requestId: `clc-snapshots-${n}` });
      o.imageMaker.sync(); // CreateImage's images, once their snapshots are completed
      await o.network.resync({ requestId: `clc-network-${n}` });
    },
    (e) => o.log.error({ err: e }, "clc: instance sync failed"),
  );
}
