/**
 * The CLC's EC2 services over its clusters and zones: images, addresses (the pool the
 * network settings give), instances, volumes and snapshots, tags, the network pushed to
 * the clusters, and what the EC2 API calls them by.
 */
import type { CloudEndpoints } from "../config/endpoints";
import { elasticAddressesRefused, privateSubnet, publicAddressRanges } from "../config/network";
import { createImageService } from "../roles/clc/compute/images";
import { createTagService } from "../roles/clc/compute/tags";
import { createInstanceService } from "../roles/clc/compute/instances";
import { createIntents } from "../roles/clc/compute/intents";
import { createAddressService, expandIpRanges } from "../roles/clc/compute/addresses";
import { createNetworkSync } from "../roles/clc/compute/network-sync";
import { createZoneService, type RegisteredCluster } from "../roles/clc/compute/zones";
import { createDefaultVpcService } from "../roles/clc/compute/default-vpc";
import { createRegionService } from "../roles/clc/compute/regions";
import { createAccountAttributeService } from "../roles/clc/compute/account-attributes";
import type { ClcState } from "../roles/clc/open-clc";
import { createVolumeService, type VolumeService, type Zone } from "../roles/clc/compute/volumes";
import { createSnapshotService } from "../roles/clc/compute/snapshots";
import { createInstanceVolumes } from "../roles/clc/compute/instance-volumes";
import { createImageMaker } from "../roles/clc/compute/create-image";
import { createEnforcedChanges } from "../roles/clc/compute/enforced-changes";
import type { WalrusClient } from "../roles/walrus/client";
import type { Assembly } from "./assembly";
import type { AdminService } from "../roles/clc/admin/admin-service";

export function assembleEc2Services(
  a: Assembly,
  clc: ClcState,
  o: {
    clusters: () => RegisteredCluster[];
    zones: () => Zone[];
    walrus: () => WalrusClient | undefined;
    endpoints: () => CloudEndpoints;
    admin: AdminService;
  },
) {
  const s = a.settings;
  const { clusters, zones } = o;
  const images = createImageService({
    db: clc.db,
    clock: a.clock,
    ids: a.ids,
    cloudKeyPem: clc.ca.keyPem,
    walrus: o.walrus,
    certificatesOfAccount: (acct) => clc.identity.certificatesOfAccount(acct),
    snapshot: (caller, id) => snapshots.restorable(caller, id),
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
  let volumes: VolumeService | undefined; // the instances' reports reach it once it exists
  const intents = createIntents({ db: clc.db, clock: a.clock });
  const instanceVolumes = createInstanceVolumes({
    db: clc.db,
    clock: a.clock,
    ids: a.ids,
    zones,
    snapshot: (caller, id) => snapshots.restorable(caller, id),
    maxPerUser: () => s.scMaxVolumesPerUser,
  });
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
    volumes: instanceVolumes,
    log: a.log,
    reachabilityMs: s.instanceReachabilitySeconds * 1000,
    reported: (reports, ended, ctx) => volumes?.reconcileAttachments(reports, ended, ctx) ?? Promise.resolve(),
  });
  const snapshots = createSnapshotService({
    db: clc.db,
    clock: a.clock,
    ids: a.ids,
    zones,
    log: a.log,
    running: (id) => instances.running(id) !== undefined,
    walrus: o.walrus,
  });
  const volumeService = createVolumeService({
    db: clc.db,
    clock: a.clock,
    ids: a.ids,
    zones,
    instance: (caller, id) => instances.live(caller, id),
    instanceOf: (id) => instances.byId(id),
    get maxPerUser() {
      return s.scMaxVolumesPerUser;
    },
    log: a.log,
    intents,
    snapshot: (caller, id) => snapshots.restorable(caller, id),
  });
  volumes = volumeService;
  const imageMaker = createImageMaker({
    db: clc.db,
    clock: a.clock,
    ids: a.ids,
    log: a.log,
    images,
    instances,
    snapshots,
    volumes: instanceVolumes,
  });
  const tags = createTagService(clc.db);
  const network = createNetworkSync({ db: clc.db, clusters, groups: clc.securityGroups, addresses, log: a.log });
  const services = {
    zones: createZoneService({ region: s.region, clusters, vmTypes: clc.vmTypes }),
    regions: createRegionService(o.endpoints),
    keyPairs: clc.keyPairs,
    securityGroups: clc.securityGroups,
    images,
    imageMaker,
    tags,
    addresses,
    instances,
    accountAttributes: createAccountAttributeService({
      // A getter: the property (and the settings page) changes it while the cloud runs.
      get maxAddressesPerUser() {
        return s.maxAddressesPerUser;
      },
      clusters,
      vmTypes: clc.vmTypes,
      vpcs,
    }),
    network,
    vpcs,
    volumes: volumeService,
    snapshots,
    enforced: createEnforcedChanges({ securityGroups: clc.securityGroups, addresses, instances, network, tags }),
    admin: o.admin,
  };
  return { services, instances, images, imageMaker, volumes: volumeService, snapshots, network };
}
