/**
 * The boundary between a node controller and the virtualization it drives. The
 * contract is written here and checked by test/contracts/hypervisor.contract.ts
 * against every implementation: xen (through `xl`), qemu (KVM or TCG) and fake.
 *
 * Rules every driver keeps:
 * - Instances are named by their EC2 instance id; platform ids (domid, pid) never escape.
 * - A failed start leaves nothing behind: no domain, no claimed capacity.
 * - destroy() of a vanished or unknown instance succeeds (idempotent).
 * - Errors are HypervisorError values with a kind, never raw command output.
 * - State lives with the platform (or, for the fake, on disk), so a restarted NC
 *   adopts what list() reports.
 */
export interface HostInfo {
  /** Memory available to guests, MB (after dom0 / the host's own share). */
  memoryMb: number;
  cores: number;
  diskGb: number;
}

export interface DiskSpec {
  /** Host path of a file or block device. */
  path: string;
  /** Guest device name, e.g. "sda1" (Xen PV) or "vda". */
  device: string;
  readOnly?: boolean;
  /** What the file holds (default raw). */
  format?: "raw" | "qcow2";
  /** An EBS volume: the guest sees its id as the disk's serial (diskSerial). */
  volumeId?: string;
  /**
   * A volume served over NBD by its SC on another host (`path` then names it, nbd://…):
   * QEMU opens it itself, TLS-PSK with the key in `pskDir`/keys.psk for `identity`.
   */
  nbd?: { host: string; port: number; export: string; identity: string; pskDir: string };
  /** A volume served over iSCSI by its SC's tgt (`path` names it, iscsi://…): QEMU's libiscsi logs in with this CHAP account. */
  iscsi?: { portal: string; target: string; lun: number; user: string; password: string };
}

/**
 * The serial a guest sees on a volume's disk: its id, as /dev/disk/by-id names it. virtio
 * carries 20 bytes, so a long id loses its dash as EC2's own serials do (vol0123…).
 */
export const diskSerial = (volumeId: string) => (volumeId.length > 20 ? volumeId.replace("-", "") : volumeId);

import type { PortForward } from "../net/port-forwards";

export type { PortForward };

/** What setForwards could not set up, and why (the rest are in force). */
export interface ForwardResult {
  failed: Array<{ forward: PortForward; reason: string }>;
}

/**
 * A guest's network card, as its cluster planned it: a tap on a bridge of the node's
 * virtual network, or QEMU's user networking (the rootless laptop cloud; its metadata
 * forwarder binds the instance's private address, and `forwards` are the ports its
 * security groups open, from its loopback addresses). The Xen driver puts a user-mode
 * card on xl's default bridge, where the guest is reached directly (no forwards).
 */
export type NicSpec =
  | { mode: "bridge"; mac: string; bridge: string; ip?: string }
  | { mode: "user"; mac: string; ip: string; forwards?: PortForward[] };

export interface DomainSpec {
  instanceId: string;
  memoryMb: number;
  cores: number;
  /** Direct kernel boot (eki/eri); without a kernel the first disk boots. */
  kernel?: string;
  ramdisk?: string;
  kernelArgs?: string;
  disks: DiskSpec[];
  nics: NicSpec[];
  /** Where the guest's serial console is written (GetConsoleOutput reads it). */
  consolePath: string;
}

import type { DomainState } from "../lifecycle/instance";

export type { DomainState };

export interface DomainInfo {
  instanceId: string;
  state: DomainState;
  memoryMb: number;
  cores: number;
  startedAt: string; // ISO 8601
  disks: DiskSpec[];
  /** Why the domain is in its state (a crash), for the instance's state reason. */
  reason?: string;
  /** The host ports forwarded to the guest that are in force (user networking). */
  forwards?: PortForward[];
  /** Waiting, paused, for a live migration's state (`pending` until completeMigration). */
  incoming?: true;
}

export interface Capabilities {
  name: "fake" | "xen" | "qemu";
  directKernelBoot: boolean;
  diskHotplug: boolean;
  /** e.g. "kvm" or "tcg" for qemu, "pv" for xen. */
  acceleration?: string;
  /** The host can be put to sleep and woken through this driver (POWERSAVE). */
  powerControl: boolean;
  /** How the guest names its disks and console, for the kernel command line. */
  guest: GuestDevices;
  /** Guests read their disks, so swap and ephemeral are formatted and the SSH key written in (not for the fake). */
  realGuests: boolean;
  /** A user-mode card's host ports can be forwarded to the guest (setForwards). */
  portForwarding: boolean;
  /** A running guest can be moved to another node of the same driver (the migration methods). */
  liveMigration: boolean;
}

/** A disk hot-plugged into a running guest, with the PCI slot it took (a migration target puts it at the same one). */
export type AttachedDisk = DiskSpec & { slot?: number };

/**
 * Where a migration target waits: the guest's state on `migrationPort`, its local disks
 * (those of its spec) as NBD exports `disk0`, `disk1`, … on `nbdPort`; both behind TLS with
 * the pre-shared key `key` (hex), made for this one migration.
 */
export interface MigrationEndpoint {
  host: string;
  migrationPort: number;
  nbdPort: number;
  key: string;
}

/** What a migration took: all of it, and the guest's final pause. */
export interface MigrationFigures {
  totalMs: number;
  downtimeMs: number;
  /** Bytes of RAM sent, and bytes of local disk mirrored. */
  ramBytes: number;
  diskBytes: number;
}

export interface GuestDevices {
  root: string;
  ephemeral: string;
  swap: string;
  console: string;
}

export type HypervisorErrorKind =
  | "exists" // an instance with this id is already running
  | "not-found" // no such instance (for operations other than destroy)
  | "capacity" // not enough memory or cores left on the host
  | "start-failed" // the platform refused to start the domain
  | "unreachable" // the hypervisor does not answer
  | "device-busy" // attach to a device name already in use
  | "not-attached" // detach of a device that is not attached
  | "busy" // power down while domains still exist
  | "invalid" // a request no driver may carry out (a forward from a non-loopback address)
  | "unsupported"; // the driver cannot do this on this platform

export class HypervisorError extends Error {
  constructor(
    readonly kind: HypervisorErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface Hypervisor {
  capabilities(): Capabilities;
  /** What the host offers guests in total (capacity accounting subtracts running domains). */
  describeHost(): Promise<HostInfo>;
  list(): Promise<DomainInfo[]>;
  get(instanceId: string): Promise<DomainInfo | undefined>;
  /** Starts a domain; throws HypervisorError (exists, capacity, start-failed) leaving nothing behind. */
  start(spec: DomainSpec): Promise<DomainInfo>;
  /** Asks the guest to shut down; after `timeoutMs` the domain is destroyed. The instance is gone afterwards. */
  stop(instanceId: string, opts?: { timeoutMs?: number }): Promise<void>;
  /** Restarts the guest in place (same disks, same console file). */
  reboot(instanceId: string): Promise<void>;
  /** Removes the domain at once. Idempotent. */
  destroy(instanceId: string): Promise<void>;
  /** The last 64 KiB of the serial console ("" when nothing was written yet). */
  consoleOutput(instanceId: string): Promise<string>;
  attachDisk(instanceId: string, disk: DiskSpec): Promise<void>;
  /**
   * Makes the running guest's forwards exactly `forwards` (adding and removing the
   * difference; established connections are kept). Every hostIp must be a loopback
   * address. A forward whose address and port something else holds is left out and
   * named in the answer. "unsupported" without portForwarding (unless `forwards` is empty).
   */
  setForwards(instanceId: string, forwards: readonly PortForward[]): Promise<ForwardResult>;
  detachDisk(instanceId: string, device: string): Promise<void>;
  /**
   * Holds an attached disk's file still for a snapshot: from now on the guest's writes go to
   * a new overlay file at `overlayPath`, so the disk's own file is a point-in-time
   * (crash-consistent) copy until thawDisk merges the overlay back. "unsupported" where the
   * platform cannot (the snapshot is then read while the guest writes).
   */
  freezeDisk(instanceId: string, device: string, overlayPath: string): Promise<void>;
  /** Merges the overlay back into the disk's file and drops it; the guest never paused. Idempotent. */
  thawDisk(instanceId: string, device: string): Promise<void>;
  /**
   * Puts the idle host to sleep (Eucalyptus' ncPowerDown, which ran powernap-now).
   * Refused with "busy" while any domain exists, "unsupported" without powerControl.
   * While asleep every other call fails "unreachable" until powerUp().
   */
  powerDown(): Promise<void>;
  /** Wakes the host (what Wake-on-LAN does for a real machine). Idempotent. */
  powerUp(): Promise<void>;
  /**
   * Live migration, in four steps the node controllers take in turn ("unsupported" without
   * liveMigration). On the source: the disks hot-plugged into the running guest, as a target
   * must recreate them.
   */
  migrationDisks(instanceId: string): Promise<AttachedDisk[]>;
  /**
   * On the target: `spec` started paused, waiting for the guest's state at `at`, with the
   * source's hot-plugged disks at their slots and its local disks served for the source's
   * mirror. Throws leaving nothing behind.
   */
  receiveMigration(spec: DomainSpec, attached: readonly AttachedDisk[], at: MigrationEndpoint): Promise<void>;
  /**
   * On the source: mirrors the local disks into the target's, then moves the running guest
   * there. Once it resolves the domain here is paused for good (its disks let go) and the
   * caller destroys it — after the target continues, so that is not on the guest's pause.
   * On failure the guest runs on here.
   */
  sendMigration(instanceId: string, to: MigrationEndpoint): Promise<MigrationFigures>;
  /** On the target, once the source finished: the guest runs here, the migration's channels close. */
  completeMigration(instanceId: string): Promise<void>;
}

export const CONSOLE_TAIL_BYTES = 64 * 1024;
