import type { CallContext } from "../../rpc/types";
import type { ClusterNetworkReport } from "./network-report";
import type { IngressRule } from "../../net/port-forwards";
import type { NodeInstance, NodeResource, RunInstanceRequest, VolumeAttachment } from "../nc/client";
import type { NodeHealthState } from "../../lifecycle/node-health";
import type { MigrationResult } from "./drain";

export type { MigrationResult };
import type { VolumeTarget } from "../sc/client";

export type { IngressRule };

/** A security group's ingress rules, which the cluster enforces on its members. */
export interface GroupRules {
  groupId: string;
  rules: IngressRule[];
}

/** What an instance's network is made from, besides its private address: its groups and public address. */
export interface InstanceNetwork {
  instanceId: string;
  /** Its security groups (fixed at launch; sent again when the cluster may not know them). */
  groupIds?: string[];
  /** null: none (disassociated, or launched with private addressing). */
  publicIp?: string | null;
}

export interface NetworkUpdate {
  groups?: GroupRules[];
  instances?: InstanceNetwork[];
  /** `groups` is every group of the cloud with members here: rules of any other are dropped. */
  complete?: boolean;
}

export interface VmTypeSpec {
  name: string;
  cpus: number;
  memoryMb: number;
  diskGb: number;
}

export interface TypeAvailability {
  name: string;
  available: number;
  max: number;
}

export interface NodeStatus {
  name: string;
  /**
   * up: answered its last poll; suspect: missed polls, within NODE_DOWN_SECONDS; down:
   * silent longer (nothing is placed there, its instances are kept); fenced: the admin
   * evacuated it; asleep: powered down (POWERSAVE).
   */
  state: NodeHealthState | "asleep";
  /** Since when it is in this state, and when it last answered (ISO 8601). */
  since?: string;
  lastContact?: string;
  /** What it offers (undefined unless up or asleep). */
  resource?: NodeResource;
  instances: number;
  /** Guests it runs that this cluster has no record of, destroyed after UNKNOWN_INSTANCE_SECONDS. */
  unknown: Array<{ instanceId: string; firstSeen: string }>;
  /** The admin drained it: nothing new is placed there. */
  drained: boolean;
}

/** A cluster's report of one instance; `unreportedSince` (ms since the epoch): its node is silent, this is its last report. */
export type ClusterInstance = NodeInstance & { node: string; unreportedSince?: number };

export interface ClusterInfo {
  name: string;
  host: string;
  nodes: number;
  /** The euca version the CC runs (absent from earlier versions). */
  version?: string;
  /** Site settings its host runs with other values than the head's: written to its config, taken at its restart. */
  settingsPending?: string[];
}

/** The CLC's view of one cluster controller (in-process or signed HTTP). */
export interface ClusterClient {
  describeCluster(input: Record<string, never>, ctx: CallContext): Promise<ClusterInfo>;
  /** How many instances of each type alone fit, now and on an empty cluster (reference §5.4). */
  describeResources(input: { vmTypes: VmTypeSpec[] }, ctx: CallContext): Promise<{ resources: TypeAvailability[] }>;
  /** Each node as the CC last heard it (the admin's view of a cluster). */
  describeNodes(input: Record<string, never>, ctx: CallContext): Promise<{ nodes: NodeStatus[] }>;
  /**
   * Leases the instances' addresses in their (first) security group's network, places
   * them and starts them on their nodes: all of them, or none (InsufficientCapacity,
   * and every lease goes back).
   */
  runInstances(
    input: {
      accountId: string;
      groupName: string;
      instances: ClusterRunRequest[];
      groups: GroupRules[];
      /**
       * Placed and addressed, not started: the instances' volumes are exported to the nodes
       * chosen (each PlacedInstance says whether its node shares the SC's host), then
       * startPlaced starts them. An instance stopped before keeps its private address.
       */
      hold?: boolean;
    },
    ctx: CallContext,
  ): Promise<{ placed: PlacedInstance[] }>;
  /**
   * Starts instances runInstances placed with `hold`, on their nodes, with their volumes'
   * exports: all or none (on a refusal those started are stopped again and every placement
   * goes; the leases stay, kept as for stopped instances, for the caller to terminate or keep).
   */
  startPlaced(input: { instances: ClusterRunRequest[] }, ctx: CallContext): Promise<void>;
  /**
   * Stops EBS-backed instances on their nodes (NodeClient.stopInstance) and lets go of their
   * placements; their leases are kept. `unfinished`: those whose node could not be reached
   * (kept placed; the caller asks again). Idempotent: an instance not placed here is done.
   */
  stopInstances(
    input: { instanceIds: string[]; force?: boolean },
    ctx: CallContext,
  ): Promise<{ unfinished: Array<{ instanceId: string; reason: string }> }>;
  /**
   * Each placed instance as its node last reported it. An instance of a silent node is
   * listed from that node's last report with `unreportedSince`; one its (answering) node
   * does not know is left out.
   */
  describeInstances(input: { instanceIds?: string[] }, ctx: CallContext): Promise<{ instances: ClusterInstance[] }>;
  /**
   * Destroys the instances on their nodes and lets go of their placements and leases.
   * `unfinished`: those whose node could not be reached (kept, placement and addresses
   * included; the caller asks again). Idempotent: an instance not placed here is done.
   */
  terminateInstances(
    input: { instanceIds: string[] },
    ctx: CallContext,
  ): Promise<{ instances: NodeInstance[]; unfinished: Array<{ instanceId: string; reason: string }> }>;
  /**
   * The admin states the node is powered off: its instances are given up (reported
   * Teardown with that reason) and, should it answer again, its guests are destroyed.
   */
  evacuateNode(input: { node: string }, ctx: CallContext): Promise<{ instanceIds: string[] }>;
  /**
   * Stops placing on the node and live-migrates its running guests to other nodes of the
   * cluster (same instance id, addresses, groups and volumes). One result per guest: where
   * it went and what it took, or why it stayed.
   */
  drainNode(input: { node: string }, ctx: CallContext): Promise<{ migrated: MigrationResult[] }>;
  /** The cluster's network as the running CC records it (`euca admin network`); ROOTLESS has none (Unsupported). */
  describeNetwork(input: Record<string, never>, ctx: CallContext): Promise<{ report: ClusterNetworkReport }>;
  /** The node takes new instances again. */
  undrainNode(input: { node: string }, ctx: CallContext): Promise<void>;
  /**
   * A node joined the cloud (`euca join`, its certificate issued by the CLC): the cluster
   * polls it at `url` (https: mutual TLS) from now on. Idempotent for the same URL.
   */
  addNode(input: { node: string; url: string }, ctx: CallContext): Promise<void>;
  /** The admin removed the node: no longer polled nor placed on (its certificate is revoked by the CLC). */
  removeNode(input: { node: string }, ctx: CallContext): Promise<void>;
  rebootInstances(input: { instanceIds: string[] }, ctx: CallContext): Promise<void>;
  getConsoleOutput(input: { instanceId: string }, ctx: CallContext): Promise<{ output: string }>;
  /**
   * Security groups' rules or instances' public addresses changed: the cluster renders
   * its network again and brings its nodes in line before it answers (a node that does
   * not answer is brought in line when it does). Idempotent.
   */
  updateNetwork(input: NetworkUpdate, ctx: CallContext): Promise<void>;
  /** Attaches a volume (exported by the zone's SC) on the node that runs the instance. */
  attachVolume(input: VolumeAttachment & { target: VolumeTarget }, ctx: CallContext): Promise<void>;
  /** Detaches it there; done once the guest let go. Idempotent (an instance no longer here has none). */
  detachVolume(input: { instanceId: string; volumeId: string }, ctx: CallContext): Promise<void>;
  /** Whether the instance's node shares this host (its SC's volumes are then opened as files). */
  volumeHostOf(input: { instanceId: string }, ctx: CallContext): Promise<{ local: boolean }>;
  /** Holds an attached volume still on its node for a snapshot (NodeClient.freezeVolume), and lets it go. */
  freezeVolume(
    input: { instanceId: string; volumeId: string },
    ctx: CallContext,
  ): Promise<{ frozen: boolean; heldByStorage?: boolean }>;
  thawVolume(input: { instanceId: string; volumeId: string }, ctx: CallContext): Promise<void>;
}

/** An instance as the CLC asks for it: everything but its network card, which the cluster plans from its groups and public address. */
export type ClusterRunRequest = Omit<RunInstanceRequest, "nic"> & { groupIds: string[]; publicIp?: string };

export interface PlacedInstance {
  instanceId: string;
  node: string;
  privateIp: string;
  mac: string;
  /** What runs it (the node's report), as EC2 names it. */
  hypervisor?: string;
  /** Its node shares this host (the SC's volumes are opened as files there). */
  local?: boolean;
}

export const CLUSTER_METHODS = [
  "describeCluster",
  "describeResources",
  "describeNodes",
  "runInstances",
  "startPlaced",
  "stopInstances",
  "describeInstances",
  "terminateInstances",
  "evacuateNode",
  "drainNode",
  "undrainNode",
  "describeNetwork",
  "addNode",
  "removeNode",
  "rebootInstances",
  "getConsoleOutput",
  "updateNetwork",
  "attachVolume",
  "detachVolume",
  "freezeVolume",
  "thawVolume",
  "volumeHostOf",
] as const satisfies readonly (keyof ClusterClient)[];
