/**
 * The cloud controller: its state (database, CA, identity), the EC2 services over the
 * clusters (./clc-clusters.ts), the protocols on the main listener (./clc-apis.ts), and
 * its rounds once the listeners are bound (roles/clc/compute/clc-sync.ts).
 */
import { openClc } from "../roles/clc/open-clc";
import { createIamService } from "../roles/clc/identity/iam";
import { createIdentityRepo } from "../roles/clc/identity/identity-repo";
import { metadataSourcesOf } from "../roles/clc/metadata/metadata";
import { createMetadataService } from "../roles/clc/metadata/metadata-rpc";
import { startClcSync } from "../roles/clc/compute/clc-sync";
import type { StorageClient } from "../roles/sc/client";
import type { ClusterClient } from "../roles/cc/client";
import type { WalrusClient } from "../roles/walrus/client";
import type { Assembly } from "./assembly";
import { clusterClients } from "./clc-clusters";
import { createJoins } from "../roles/clc/clusters/joins";
import { siteSettingsOf } from "../config/site-settings";
import type { SettingsStore } from "../config/settings-store";
import { createAdminService } from "../roles/clc/admin/admin-service";
import { writeFileAtomic } from "../common/files";
import { every } from "../common/periodic";
import { createClusterWatch } from "../roles/clc/clusters/cluster-watch";
import { mountClcApis } from "./clc-apis";
import { assembleEc2Services } from "./clc-services";
import type { InstanceRecord } from "../roles/clc/compute/instances";
import type { CallContext } from "../rpc/types";

export type ClcAssembly = Awaited<ReturnType<typeof assembleClc>>;

export async function assembleClc(
  a: Assembly,
  o: {
    cluster?: ClusterClient;
    storage?: StorageClient;
    walrus: () => WalrusClient | undefined;
    /** The head's internal listener, once bound (join tokens name it). */
    internalUrl: () => string | undefined;
    /** The cloud's settings as they run (properties, the web's settings page). */
    settings: SettingsStore;
  },
) {
  const s = a.settings;
  const endpoints = () => {
    const e = a.endpoints();
    if (!e) throw new Error("endpoints are not known before the listeners are bound");
    return e;
  };
  const clc = await openClc({ layout: a.layout, clock: a.clock, ids: a.ids, endpoints });
  a.cleanups.push(() => clc.close());
  const { clusters, zones } = clusterClients({
    db: clc.db,
    here: o.cluster && { name: s.clusterName, cluster: o.cluster, storage: o.storage },
    clock: a.clock,
    ids: a.ids,
    tls: a.hostTls,
  });
  const joins = createJoins({
    db: clc.db,
    ca: () => clc.ca,
    clock: a.clock,
    ids: a.ids,
    log: a.log,
    cluster: (name) => clusters().find((c) => c.name === name)?.client,
    site: () => ({ url: o.internalUrl() ?? "", settings: siteSettingsOf(s) }),
    revoked: (pem) => writeFileAtomic(a.layout.revocations, pem, 0o600),
  });
  // Remote clusters only: the one in this process is the head's own readiness.
  const watch = createClusterWatch(() => clusters().filter((c) => !(o.cluster && c.name === s.clusterName)));
  const admin = createAdminService({
    settings: o.settings,
    clusters,
    joins,
    identity: clc.identity,
    vmTypes: clc.vmTypes,
    version: a.version,
  });
  const { services, instances, images, imageMaker, volumes, snapshots, network } = assembleEc2Services(a, clc, {
    clusters,
    zones,
    walrus: o.walrus,
    endpoints,
    admin,
  });
  const iam = createIamService({
    repo: createIdentityRepo(clc.db),
    identity: clc.identity,
    clock: a.clock,
    ids: a.ids,
  });
  const sources = metadataSourcesOf({ instances, images, keyPairs: clc.keyPairs, region: s.region });
  mountClcApis(a, { clc, services, iam, metadata: sources });
  return {
    clc,
    /** What the web interface calls: the EC2 services, IAM, the clusters and the endpoints. */
    services,
    iam,
    clusters,
    endpoints,
    joins,
    /** The remote clusters as last asked (the head's heartbeat). */
    watch,
    /** Metadata for nodes that answer their guests themselves (SYSTEM, STATIC); `may` says which instances a caller runs. */
    metadataService: (may: (ctx: CallContext, instance: InstanceRecord) => boolean) =>
      createMetadataService({ sources, live: (id) => instances.running(id), may }),
    /** Once the listeners are bound: the admin's credentials (naming the bound endpoints), reconciliation, the background sync. */
    async start() {
      const credentials = (await clc.identity.ensureAdmin()).credentials;
      const stop = await startClcSync({
        pollMs: s.nodePollSeconds * 1000,
        instances,
        volumes,
        snapshots,
        imageMaker,
        network,
        ids: a.ids,
        log: a.log,
      });
      a.cleanups.push(stop); // stops (waiting for its round) before the databases close
      a.cleanups.push(
        every(
          Math.max(1000, s.nodePollSeconds * 5000),
          () => watch.round(),
          () => undefined,
        ),
      );
      return credentials;
    },
  };
}
