import type { ForwardResult, MigrationEndpoint, MigrationFigures, NicSpec, PortForward } from "../../hypervisor/types";
import type { CallContext } from "../../rpc/types";
import type { ClusterView } from "../../net/view";
import type { VolumeTarget } from "../sc/client";

/** What a node reports about its capacity (Eucalyptus ncDescribeResource, reference §5.1). */
export interface NodeResource {
  nodeStatus: "enabled" | "disabled";
  memorySizeMax: number; // MB
  memorySizeAvailable: number; // MB
  diskSizeMax: number; // GB
  diskSizeAvailable: number; // GB
  numberOfCoresMax: number;
  numberOfCoresAvailable: number;
  /** The node can be powered down when idle and woken (POWERSAVE). */
  powerControl: boolean;
  /** What runs the node's guests, as EC2 names it: "xen", "kvm", "qemu" (TCG) or "fake". */
  hypervisor?: string;
}

/** Where an image's bundle lives in Walrus (bucket and manifest key). */
export interface ImageRef {
  id: string;
  bucket: string;
  manifestKey: string;
}

/** An EBS volume a guest starts with: where its SC exported it for this node, and its device name. */
export interface LaunchVolume {
  volumeId: string;
  device: string;
  target: VolumeTarget;
}

/** ncRunInstance (reference §8.4). */
export interface RunInstanceRequest {
  instanceId: string;
  reservationId: string;
  accountId: string;
  /** The instance-store image its root is copied from; absent when its root is `rootVolume`. */
  image?: ImageRef;
  /** An EBS-backed instance's root: the volume it boots from (no image is fetched, no swap made). */
  rootVolume?: LaunchVolume;
  /** Volumes mapped at launch: attached as the guest starts, before it is reported running. */
  volumes?: LaunchVolume[];
  /** EBS-backed: the devices of instance-store disks mapped at launch (made empty at each start). */
  ephemeral?: string[];
  kernel?: ImageRef;
  ramdisk?: ImageRef;
  vmType: { name: string; cpus: number; memoryMb: number; diskGb: number };
  /** OpenSSH public key to inject. */
  publicKey?: string;
  /** Base64, as the EC2 API carries it. */
  userData?: string;
  /** The guest's network card, as its cluster planned it. */
  nic: NicSpec;
  launchIndex: number;
  groupNames: string[];
}

/** Pending (staging/booting), Extant (running), Teardown (gone), as Eucalyptus reported them up. */
export type { NodeInstanceState } from "../../lifecycle/instance";
import type { NodeInstanceState } from "../../lifecycle/instance";

export interface NodeInstance {
  instanceId: string;
  state: NodeInstanceState;
  /** Why it is in Teardown (a failed start, a crash), for the instance's state reason. */
  reason?: string;
  launchTime: string;
  /** SYSTEM: the address the node saw the guest use (the site's DHCP gave it), until the cluster records it. */
  privateIp?: string;
  /** The volumes attached to it now (the truth of an attachment). */
  volumes?: Array<{ volumeId: string; device: string }>;
}

/** One volume on one instance, at a device name (e.g. "sdf"). */
export interface VolumeAttachment {
  instanceId: string;
  volumeId: string;
  device: string;
}

/** The CC's view of one node controller (in-process or signed HTTP). */
export interface NodeClient {
  describeResource(input: Record<string, never>, ctx: CallContext): Promise<NodeResource>;
  /** Accepts the instance and returns at once (Pending); staging and boot continue in the background. */
  runInstance(input: RunInstanceRequest, ctx: CallContext): Promise<NodeInstance>;
  describeInstances(input: { instanceIds?: string[] }, ctx: CallContext): Promise<{ instances: NodeInstance[] }>;
  /** Idempotent: terminating an unknown or finished instance succeeds. */
  terminateInstance(input: { instanceId: string }, ctx: CallContext): Promise<NodeInstance | null>;
  /**
   * Stops an EBS-backed guest (StopInstances): asked to shut down (ACPI), destroyed after
   * `timeoutMs` (at once with `force`); its volumes are let go, its instance-store disks
   * removed, the record torn down "stopped". Idempotent.
   */
  stopInstance(
    input: { instanceId: string; force?: boolean; timeoutMs?: number },
    ctx: CallContext,
  ): Promise<NodeInstance | null>;
  rebootInstance(input: { instanceId: string }, ctx: CallContext): Promise<void>;
  /** The last 64 KiB of the console, base64 (as ncGetConsoleOutput returns it). */
  getConsoleOutput(input: { instanceId: string }, ctx: CallContext): Promise<{ output: string }>;
  /**
   * The host ports forwarded to a user-mode guest, as its cluster rendered them from its
   * security groups and addresses: recorded, and in force before the answer when it runs
   * (a guest still starting gets them as it starts). `failed`: forwards that could not bind.
   */
  setForwards(input: { instanceId: string; forwards: PortForward[] }, ctx: CallContext): Promise<ForwardResult>;
  /**
   * MANAGED modes: the node's part of the cluster's network (its guests' segments and
   * filters), as its CC rendered it; `node` is the node's name in the view. Recorded and
   * in force before the answer; a restarted node applies the last one it took.
   */
  setNetwork(input: { view: ClusterView; node: string }, ctx: CallContext): Promise<{ applied: true }>;
  /**
   * Attaches an EBS volume to a running guest (ncAttachVolume): `target` is where its SC
   * exported it; the guest sees a disk whose serial is the volume id. Done when it answers.
   */
  attachVolume(input: VolumeAttachment & { target: VolumeTarget }, ctx: CallContext): Promise<void>;
  /** Detaches it (ncDetachVolume); done once the guest has let go of the disk. Idempotent. */
  detachVolume(input: { instanceId: string; volumeId: string }, ctx: CallContext): Promise<void>;
  /**
   * Holds an attached volume's file still for a snapshot (the guest writes to an overlay
   * meanwhile). `frozen` false: not here — `heldByStorage` when the volume comes over NBD
   * (its SC's daemon holds it still), else the hypervisor cannot and it is read as it is.
   */
  freezeVolume(
    input: { instanceId: string; volumeId: string },
    ctx: CallContext,
  ): Promise<{ frozen: boolean; heldByStorage?: boolean }>;
  /** Merges what the guest wrote meanwhile back into the volume's file. Idempotent. */
  thawVolume(input: { instanceId: string; volumeId: string }, ctx: CallContext): Promise<void>;
  /** Puts the idle node to sleep (ncPowerDown); refused while it runs instances. */
  powerDown(input: Record<string, never>, ctx: CallContext): Promise<void>;
  /** Wakes the node (for a real machine Wake-on-LAN does this; the fake host answers itself). */
  powerUp(input: Record<string, never>, ctx: CallContext): Promise<void>;
  /**
   * Live migration (drain), in the order the CC calls them. On the source: what the target
   * needs (UnsupportedError for a guest that cannot move: a volume opened as a file here).
   */
  migrationSource(input: { instanceId: string }, ctx: CallContext): Promise<MigrationSource>;
  /** On the target: stages the instance as for a launch and waits, paused, for its state; `key` secures both channels. */
  receiveInstance(input: MigrationSource & { key: string }, ctx: CallContext): Promise<MigrationEndpoint>;
  /** On the source: mirrors the disks and moves the running guest; it is gone here (Teardown, "migrated to …") once this returns. */
  sendInstance(
    input: { instanceId: string; to: MigrationEndpoint; node: string },
    ctx: CallContext,
  ): Promise<MigrationFigures>;
  /** On the target: `ok` — the guest continues here; otherwise what waited is removed as if it had never come. */
  completeIncoming(input: { instanceId: string; ok: boolean }, ctx: CallContext): Promise<void>;
}

/** A volume attached to a migrating guest: where its SC serves it (the target opens it too) and the PCI slot it holds. */
export interface MigratingVolume {
  volumeId: string;
  device: string;
  target: VolumeTarget;
  slot?: number;
}

/** What a migration target needs of its source: the launch request, the attached volumes, the console so far (base64). */
export interface MigrationSource {
  request: RunInstanceRequest;
  volumes: MigratingVolume[];
  console: string;
}

export type { MigrationEndpoint, MigrationFigures };

export const NODE_METHODS = [
  "describeResource",
  "runInstance",
  "describeInstances",
  "terminateInstance",
  "stopInstance",
  "rebootInstance",
  "getConsoleOutput",
  "setForwards",
  "setNetwork",
  "attachVolume",
  "detachVolume",
  "freezeVolume",
  "thawVolume",
  "powerDown",
  "powerUp",
  "migrationSource",
  "receiveInstance",
  "sendInstance",
  "completeIncoming",
] as const satisfies readonly (keyof NodeClient)[];
