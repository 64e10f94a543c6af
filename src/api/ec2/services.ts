import type { ZoneService } from "../../roles/clc/compute/zones";
import type { RegionService } from "../../roles/clc/compute/regions";
import type { KeyPairService } from "../../roles/clc/compute/key-pairs";
import type { SecurityGroupService } from "../../roles/clc/compute/security-groups";
import type { ImageService } from "../../roles/clc/compute/images";
import type { TagService } from "../../roles/clc/compute/tags";
import type { InstanceService } from "../../roles/clc/compute/instances";
import type { AddressService } from "../../roles/clc/compute/addresses";
import type { AccountAttributeService } from "../../roles/clc/compute/account-attributes";
import type { NetworkSync } from "../../roles/clc/compute/network-sync";
import type { DefaultVpcService } from "../../roles/clc/compute/default-vpc";
import type { VolumeService } from "../../roles/clc/compute/volumes";
import type { SnapshotService } from "../../roles/clc/compute/snapshots";
import type { EnforcedChanges } from "../../roles/clc/compute/enforced-changes";
import type { AdminService } from "../../roles/clc/admin/admin-service";
import type { ImageMaker } from "../../roles/clc/compute/create-image";

/** The CLC services EC2 actions call. The protocol layer never touches the database. */
export interface Ec2Services {
  zones: ZoneService;
  regions: RegionService;
  keyPairs: KeyPairService;
  securityGroups: SecurityGroupService;
  images: ImageService;
  /** CreateImage: images of EBS-backed instances. */
  imageMaker: ImageMaker;
  tags: TagService;
  instances: InstanceService;
  addresses: AddressService;
  accountAttributes: AccountAttributeService;
  /** Tells the clusters of rule and address changes (they answer once the change is in force). */
  network: NetworkSync;
  /** The default VPC and subnets each account sees. */
  vpcs: DefaultVpcService;
  volumes: VolumeService;
  snapshots: SnapshotService;
  /** Rule and address changes, answered once the clusters enforce them (with their bookkeeping). */
  enforced: EnforcedChanges;
  /** The administrator's: properties, the components' status, hosts joining and leaving. */
  admin: AdminService;
}
