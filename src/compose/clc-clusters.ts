/**
 * The clusters and zones the CLC talks to: the CC and SC in this process (in-process
 * clients), then every cluster registered from another host (mutual TLS when it joined,
 * signed HTTP when it was registered with a key; its SC is beside its CC, at the same address).
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
import type { HostTls } from "../rpc/host-tls";

export function clusterClients(o: {
  db: ClcDatabase;
  /** This process's zone, when its CC (and SC) run here. */
  here?: { name: string; cluster: ClusterClient; storage?: StorageClient };
  clock: Clock;
  ids: IdGenerator;
  /** The head's certificate: clusters that joined are called over mutual TLS (their https URL). */
  tls: () => HostTls | undefined;
}): { clusters: () => RegisteredCluster[]; zones: () => Zone[] } {
  const here = o.here && {
    name: o.here.name,
    cluster: createInProcessClient(CLUSTER_METHODS, o.here.cluster),
    storage: o.here.storage && createInProcessClient(STORAGE_METHODS, o.here.storage),
  };
  // One pair of clients per registered URL, so their connections (TLS sessions) are kept.
  const made = new Map<string, { cluster: ClusterClient; storage: StorageClient }>();
  const remote = () =>
    listRemoteClusters(o.db).map((c) => {
      const id = `${c.name} ${c.url} ${c.key.id}`;
      let m = made.get(id);
      if (!m) {
        const via = { baseUrl: c.url, key: c.key, tls: o.tls(), clock: o.clock, ids: o.ids };
        m = {
          cluster: createHttpClient<ClusterClient>(CLUSTER_METHODS, { role: "cc", ...via }),
          storage: createHttpClient<StorageClient>(STORAGE_METHODS, { role: "sc", ...via }),
        };
        made.set(id, m);
      }
      return { name: c.name, ...m };
    });
  return {
    clusters: () => [
      ...(here ? [{ name: here.name, client: here.cluster }] : []),
      ...remote().map((c) => ({ name: c.name, client: c.cluster })),
    ],
    zones: () => [...(here ? [here] : []), ...remote()],
  };
}
