/**
 * The clusters and zones the CLC talks to: the CC and SC in this process (in-process
 * clients), then every cluster registered from another host (signed HTTP; its SC is
 * beside its CC, at the same address and with the same key).
 */
import type { Clock } from "../common/clock";
import type { IdGenerator } from "../common/ids";
import { createInProcessClient } from "../rpc/in-process";
import { createHttpClient } from "../rpc/http-client";
import { listRemoteClusters } from "../roles/clc/clusters/cluster-registry";
import type { ClcDatabase } from "../roles/clc/database";
import type { RegisteredCluster } from "../roles/clc/compute/zones";
import type { Zone } from "../roles/clc/compute/volumes";
import { CLUSTER_METHODS, type ClusterClient } from "../roles/cc/client";
import { STORAGE_METHODS, type StorageClient } from "../roles/sc/client";

export function clusterClients(o: {
  db: ClcDatabase;
  /** This process's zone, when its CC (and SC) run here. */
  here?: { name: string; cluster: ClusterClient; storage?: StorageClient };
  clock: Clock;
  ids: IdGenerator;
}): { clusters: () => RegisteredCluster[]; zones: () => Zone[] } {
  const here = o.here && {
    name: o.here.name,
    cluster: createInProcessClient(CLUSTER_METHODS, o.here.cluster),
    storage: o.here.storage && createInProcessClient(STORAGE_METHODS, o.here.storage),
  };
  const signed = { clock: o.clock, ids: o.ids };
  const remote = () =>
    listRemoteClusters(o.db).map((c) => ({
      name: c.name,
      cluster: () =>
        createHttpClient<ClusterClient>(CLUSTER_METHODS, { baseUrl: c.url, role: "cc", key: c.key, ...signed }),
      storage: () =>
        createHttpClient<StorageClient>(STORAGE_METHODS, { baseUrl: c.url, role: "sc", key: c.key, ...signed }),
    }));
  return {
    clusters: () => [
      ...(here ? [{ name: here.name, client: here.cluster }] : []),
      ...remote().map((c) => ({ name: c.name, client: c.cluster() })),
    ],
    zones: () => [
      ...(here ? [here] : []),
      ...remote().map((c) => ({ name: c.name, cluster: c.cluster(), storage: c.storage() })),
    ],
  };
}
