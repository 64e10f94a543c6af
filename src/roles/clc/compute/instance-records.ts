/** The CLC's instance records and what its instance services share. */
import type { Logger } from "pino";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { InvalidParameterError } from "../../../common/errors";
import type { CallContext } from "../../../rpc/types";
import type { ClusterInstance } from "../../cc/client";
import type { ClcDatabase } from "../database";
import type { instances } from "../schema";
import type { AddressService } from "./addresses";
import type { ImageService } from "./images";
import type { KeyPairService } from "./key-pairs";
import type { SecurityGroupService } from "./security-groups";
import type { VmTypeService } from "./vm-types";
import type { RegisteredCluster } from "./zones";
import type { Intents } from "./intents";
import type { MappingInput } from "./block-devices";
import type { InstanceVolumes } from "./instance-volumes";

export type InstanceRecord = typeof instances.$inferSelect;
export type InstanceState = InstanceRecord["state"];
/** Eucalyptus' SHUT_DOWN_TIME: how long terminated instances stay visible. */
export const TERMINATED_VISIBLE_MS = 10 * 60 * 1000;

export interface Caller {
  accountId: string;
  isAdmin: boolean;
}

export interface RunInput {
  imageId: string;
  minCount: number;
  maxCount: number;
  instanceType?: string;
  keyName?: string;
  groupNames: string[];
  groupIds: string[];
  userData?: string;
  kernelId?: string;
  ramdiskId?: string;
  zone?: string;
  clientToken?: string;
  /** "private": no public address at launch (Eucalyptus' --addressing private). */
  addressing?: "public" | "private";
  /** BlockDeviceMapping.N as the request gave it: laid over the image's. */
  blockDeviceMappings?: MappingInput[];
  disableApiTermination?: boolean;
  shutdownBehavior?: "stop" | "terminate";
}

export interface InstanceServiceDeps {
  db: ClcDatabase;
  clock: Clock;
  ids: IdGenerator;
  clusters: () => readonly RegisteredCluster[];
  images: ImageService;
  keyPairs: KeyPairService;
  groups: SecurityGroupService;
  vmTypes: VmTypeService;
  addresses: AddressService;
  intents: Intents;
  /** The volumes instances get from their block device mappings. */
  volumes: InstanceVolumes;
  log?: Logger;
  /** INSTANCE_REACHABILITY_SECONDS in ms: an instance unreported this long is impaired. */
  reachabilityMs: number;
  /** Told what the clusters reported of live instances and which ended (volumes let go of theirs). */
  reported?: (
    reports: ReadonlyMap<string, ClusterInstance | undefined>,
    ended: ReadonlySet<string>,
    ctx: CallContext,
  ) => Promise<void>;
}

/** The zone's registered cluster, or the error RunInstances gives for an unknown zone. */
export function clusterOf(clusters: readonly RegisteredCluster[], zone: string): RegisteredCluster {
  const c = clusters.find((x) => x.name === zone);
  if (!c) throw new InvalidParameterError("Placement.AvailabilityZone", `Invalid availability zone: [${zone}]`);
  return c;
}
