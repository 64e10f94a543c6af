/**
 * The cloud controller: its state (database, CA, identity), the EC2 services over the
 * clusters (in this process or registered), the EC2 Query API and the metadata
 * service on the main listener.
 */
import { every } from "../common/periodic";
import { elasticAddressesRefused, privateSubnet, publicAddressRanges } from "../config/network";
import { createInProcessClient } from "../rpc/in-process";
import { createHttpClient } from "../rpc/http-client";
import { createEc2App } from "../api/ec2/app";
import { callersByAddress, createMetadataApp } from "../api/metadata/app";
import { createQueryHandler } from "../api/sts-iam/app";
import { stsService } from "../api/sts-iam/sts";
import { iamService } from "../api/sts-iam/iam";
import { openClc } from "../roles/clc/open-clc";
import { createImageService } from "../roles/clc/images";
import { createTagService } from "../roles/clc/tags";
import { createInstanceService } from "../roles/clc/instances";
import { createIntents } from "../roles/clc/intents";
import { createAddressService, expandIpRanges } from "../roles/clc/addresses";
import { createNetworkSync } from "../roles/clc/network-sync";
import { createZoneService, type RegisteredCluster } from "../roles/clc/zones";
import { createDefaultVpcService } from "../roles/clc/default-vpc";
import { createRegionService } from "../roles/clc/regions";
import { createAccountAttributeService } from "../roles/clc/account-attributes";
import { createIamService } from "../roles/clc/iam";
import { createIdentityRepo } from "../roles/clc/identity-repo";
import { listRemoteClusters } from "../roles/clc/cluster-registry";
import type { MetadataSources } from "../roles/clc/metadata";
import { createMetadataService } from "../roles/clc/metadata-rpc";
import type { InstanceRecord } from "../roles/clc/instances";
import { createVolumeService, type VolumeService, type Zone } from "../roles/clc/volumes";
import { createSnapshotService } from "../roles/clc/snapshots";
import { createEnforcedChanges } from "../roles/clc/enforced-changes";
import { STORAGE_METHODS, type StorageClient } from "../roles/sc/client";
import { CLUSTER_METHODS, type ClusterClient } from "../roles/cc/client";
import type { WalrusClient } from "../roles/walrus/client";
import type { Assembly } from "./assembly";

export type ClcAssembly = Awaited<ReturnType<typeof assembleClc>>;

export async function assembleClc(
  a: Assembly,
  o: { cluster?: ClusterClient; storage?: StorageClient; walrus: () => WalrusClient | undefined },
) {
  const s = a.settings;
  const endpoints = () => {
    const e = a.endpoints();
    if (!e) throw new Error("endpoints are not known before the listeners are bound");
    return e;
  };
  const clc = await openClc({ layout: a.layout, clock: a.clock, ids: a.ids, endpoints });
  a.cleanups.push(() => clc.close());
  const local = o.cluster ? createInProcessClient(CLUSTER_METHODS, o.cluster) : undefined;
  const clusters = (): RegisteredCluster[] => [
    ...(local ? [{ name: s.clusterName, client: local }] : []),
    ...listRemoteClusters(clc.db).map((c) => ({
      name: c.name,
      client: createHttpClient<ClusterClient>(CLUSTER_METHODS, {
        baseUrl: c.url,
        role: "cc",
        key: c.key,
        clock: a.clock,
        ids: a.ids,
      }),
    })),
  ];
  const images = createImageService({
    db: clc.db,
    clock: a.clock,
    ids: a.ids,
    cloudKeyPem: clc.ca.keyPem,
    walrus: o.walrus,
    certificatesOfAccount: (acct) => clc.identity.certificatesOfAccount(acct),
  });
  const pool = expandIpRanges(publicAddressRanges(s));
  const addresses = createAddressService({
    db: clc.db,
    ids: a.ids,
    get maxPerUser() {
      return s.maxAddressesPerUser;
    },
    pool,
    unsupported: elasticAddressesRefused(s),
  });
  const vpcs = createDefaultVpcService({
    privateRange: privateSubnet(s),
    zones: () => clusters().map((c) => c.name),
    publicAddressing: pool.length > 0,
  });
  let volumes: VolumeService | undefined;
  const intents = createIntents({ db: clc.db, clock: a.clock });
  const instances = createInstanceService({
    db: clc.db,
    clock: a.clock,
    ids: a.ids,
    clusters,
    images,
    keyPairs: clc.keyPairs,
    groups: clc.securityGroups,
    vmTypes: clc.vmTypes,
    addresses,
    intents,
    log: a.log,
    reachabilityMs: s.instanceReachabilitySeconds * 1000,
    reported: (reports, ended, ctx) => volumes?.reconcileAttachments(reports, ended, ctx) ?? Promise.resolve(),
  });
  // Each zone's SC: in this process, or beside its registered CC (the same host and key).
  const localStorage = o.storage && createInProcessClient(STORAGE_METHODS, o.storage);
  const zones = (): Zone[] => [
    ...(local ? [{ name: s.clusterName, cluster: local, storage: localStorage }] : []),
    ...listRemoteClusters(clc.db).map((c) => ({
      name: c.name,
      cluster: createHttpClient<ClusterClient>(CLUSTER_METHODS, {
        baseUrl: c.url,
        role: "cc",
        key: c.key,
        clock: a.clock,
        ids: a.ids,
      }),
      storage: createHttpClient<StorageClient>(STORAGE_METHODS, {
        baseUrl: c.url,
        role: "sc",
        key: c.key,
        clock: a.clock,
        ids: a.ids,
      }),
    })),
  ];
  const snapshots = createSnapshotService({ db: clc.db, clock: a.clock, ids: a.ids, zones, log: a.log });
  volumes = createVolumeService({
    db: clc.db,
    clock: a.clock,
    ids: a.ids,
    zones,
    instance: (caller, id) => instances.live(caller, id),
    get maxPerUser() {
      return s.scMaxVolumesPerUser;
    },
    log: a.log,
    intents,
    snapshot: (caller, id) => snapshots.restorable(caller, id),
  });
  const tags = createTagService(clc.db);
  const network = createNetworkSync({ db: clc.db, clusters, groups: clc.securityGroups, addresses, log: a.log });
  const services = {
    zones: createZoneService({ region: s.region, clusters, vmTypes: clc.vmTypes }),
    regions: createRegionService(endpoints),
    keyPairs: clc.keyPairs,
    securityGroups: clc.securityGroups,
    images,
    tags,
    addresses,
    instances,
    accountAttributes: createAccountAttributeService({
      maxAddressesPerUser: s.maxAddressesPerUser,
      clusters,
      vmTypes: clc.vmTypes,
      vpcs,
    }),
    network,
    vpcs,
    volumes,
    snapshots,
    enforced: createEnforcedChanges({ securityGroups: clc.securityGroups, addresses, instances, network, tags }),
  };
  // STS and IAM: at Eucalyptus' paths, and on the EC2 endpoint by credential scope.
  const queryDeps = { clock: a.clock, ids: a.ids, log: a.log, identity: clc.identity };
  const sts = createQueryHandler(
    stsService({ createSession: (p, seconds) => clc.identity.createSession(p, seconds) }),
    queryDeps,
  );
  const iamRole = createIamService({
    repo: createIdentityRepo(clc.db),
    identity: clc.identity,
    clock: a.clock,
    ids: a.ids,
  });
  const iam = createQueryHandler(iamService(iamRole), queryDeps);
  for (const path of ["/services/Tokens", "/services/Tokens/"]) a.mainApp.on(["GET", "POST"], path, sts);
  for (const path of ["/services/Euare", "/services/Euare/"]) a.mainApp.on(["GET", "POST"], path, iam);
  a.mainApp.route(
    "/",
    createEc2App({
      clock: a.clock,
      ids: a.ids,
      log: a.log,
      identity: clc.identity,
      services,
      queryServices: { sts, iam },
    }),
  );
  const sources: MetadataSources = {
    byAddress: (ip) => instances.byAddress(ip),
    publicIpOf: (id) => instances.publicIpOf(id),
    groupsOf: (i) => instances.groupsOf(i),
    imageLocation: (imageId) => images.locationOf(imageId),
    keyOf: (accountId, name) => {
      const k = clc.keyPairs.find(accountId, name); // deleted since launch: none
      return k && { name: k.name, publicKey: k.publicKey };
    },
    region: s.region,
  };
  a.mainApp.route(
    "/",
    createMetadataApp({ clock: a.clock, ids: a.ids, log: a.log, callerOf: callersByAddress(sources) }),
  );
  return {
    clc,
    /** What the web interface calls: the EC2 services, IAM, the clusters and the endpoints. */
    services,
    iam: iamRole,
    clusters,
    endpoints,
    /** Metadata for nodes that answer their guests themselves (SYSTEM, STATIC); `may` says which instances a caller runs. */
    metadataService: (may: (caller: string | undefined, instance: InstanceRecord) => boolean) =>
      createMetadataService({ sources, live: (id) => instances.running(id), may }),
    /** Once the listeners are bound: the admin's credentials (naming the bound endpoints), reconciliation, the background sync. */
    async start() {
      const credentials = (await clc.identity.ensureAdmin()).credentials;
      const lost = await instances.reconcile({ requestId: a.ids.requestId() });
      if (lost.length) a.log.warn({ instances: lost }, "clc: terminated instances whose launch a restart interrupted");
      // Stops (waiting for its round) before the databases close.
      // Clusters learn every group and address at start (one may have missed a change before a crash).
      await network.resync({ requestId: a.ids.requestId() });
      a.cleanups.push(
        every(
          s.nodePollSeconds * 1000,
          async (n) => {
            await instances.sync({ requestId: `clc-sync-${n}` });
            await volumes?.sync({ requestId: `clc-volumes-${n}` });
            await snapshots.sync({ requestId: `clc-snapshots-${n}` });
            await network.resync({ requestId: `clc-network-${n}` });
          },
          (e) => a.log.error({ err: e }, "clc: instance sync failed"),
        ),
      );
      return credentials;
    },
  };
}
