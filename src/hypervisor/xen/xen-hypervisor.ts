/**
 * Instances as Xen domains, driven through `xl` (the runner is injected: the real one
 * runs xl, tests play a recorded-format double). Domains are named by instance id; the
 * driver keeps each domain's config and spec under its state directory, so a restarted
 * NC adopts what `xl list` still shows. Consoles are read from xenconsoled's guest logs
 * (XENCONSOLED_TRACE=guest writes /var/log/xen/console/guest-<name>.log), as Eucalyptus did.
 */
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../common/clock";
import type { ProgramRunner } from "../../common/run-program";
import { consoleTail } from "../console";
import { checkBootFiles } from "../boot-files";
import {
  HypervisorError,
  type AttachedDisk,
  type Capabilities,
  type MigrationFigures,
  type DiskSpec,
  type DomainInfo,
  type DomainSpec,
  type HostInfo,
  type ForwardResult,
  type Hypervisor,
  type PortForward,
} from "../types";
import { xlConfig, type XenGuestType } from "./config";
import { parseXlInfo, parseXlList, xlErrorKind, type XlDomain } from "./parse";
import { checkInstanceId, DomainFiles, isInstanceId, noPowerControl, type DomainRecord } from "../domain-state";

export interface XenOptions {
  stateDir: string;
  run: ProgramRunner;
  clock: Clock;
  /** The xl binary (default "xl"). */
  xl?: string;
  /** Where xenconsoled writes guest-<name>.log. */
  consoleDir?: string;
  guestType?: XenGuestType;
  /** How long stop() waits for a clean shutdown before `xl destroy`. */
  stopTimeoutMs?: number;
}

type DomainState = DomainRecord;

export class XenHypervisor implements Hypervisor {
  private readonly xlBin: string;
  private readonly consoleDir: string;

  constructor(private readonly o: XenOptions) {
    this.xlBin = o.xl ?? "xl";
    this.consoleDir = o.consoleDir ?? "/var/log/xen/console";
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  }

  capabilities(): Capabilities {
    return {
      name: "xen",
      directKernelBoot: true,
      diskHotplug: true,
      acceleration: this.o.guestType ?? "pv",
      powerControl: false,
      realGuests: true,
      portForwarding: false,
      liveMigration: false,
      guest: { root: "xvda1", ephemeral: "xvda2", swap: "xvda3", console: "hvc0" },
    };
  }

  /** Runs xl; a failure becomes a typed error from xl's own words. */
  private async xl(
    args: string[],
    failKind?: (kind: ReturnType<typeof xlErrorKind>) => ReturnType<typeof xlErrorKind>,
    timeoutMs?: number,
  ): Promise<string> {
    let r;
    try {
      r = await this.o.run(this.xlBin, args, { timeoutMs });
    } catch (e) {
      throw new HypervisorError("unreachable", `cannot run ${this.xlBin}: ${(e as Error).message}`);
    }
    if (r.code !== 0) {
      const text = (r.stderr || r.stdout).trim();
      const kind = xlErrorKind(text);
      throw new HypervisorError(
        failKind ? failKind(kind) : kind,
        `xl ${args[0]}: ${text.split("\n").slice(-2).join(" / ") || `exit ${r.code}`}`,
      );
    }
    return r.stdout;
  }

  private readonly files = new DomainFiles<DomainState>((id) => join(this.o.stateDir, `${id}.json`));

  private cfgFile(id: string): string {
    return join(this.o.stateDir, `${checkInstanceId(id)}.cfg`);
  }

  private read(id: string): DomainState | undefined {
    return this.files.read(id);
  }

  private forget(id: string): void {
    this.files.remove(id);
    rmSync(this.cfgFile(id), { force: true });
  }

  private info(d: XlDomain, st: DomainState | undefined): DomainInfo {
    // A domain that shut down or is dying is no longer a running guest; with on_crash=preserve a crash stays listed.
    const down = d.flags[3] === "s" || d.flags[5] === "d";
    const why =
      d.shutdownReason === "crash"
        ? "the guest crashed"
        : d.shutdownReason === "watchdog"
          ? "the guest was stopped by its watchdog"
          : `the guest shut down (${d.shutdownReason ?? "dying"})`;
    return {
      instanceId: d.name,
      memoryMb: d.memMb,
      cores: d.vcpus,
      startedAt: st?.startedAt ?? this.o.clock.now().toISOString(),
      disks: st ? DomainFiles.disks(st) : [],
      state: down ? "crashed" : "running",
      ...(down ? { reason: `${why} (xl list: ${d.flags})` } : {}),
    };
  }

  private async domains(): Promise<XlDomain[]> {
    return parseXlList(await this.xl(["list"])).filter((d) => isInstanceId(d.name));
  }

  async describeHost(): Promise<HostInfo> {
    const info = parseXlInfo(await this.xl(["info"]));
    const all = parseXlList(await this.xl(["list"]));
    const dom0 = all.find((d) => d.domid === 0)?.memMb ?? 0;
    const s = statfsSync(this.o.stateDir);
    // Guests get what the machine has less dom0's share (Eucalyptus subtracted dom0-min-mem).
    return {
      memoryMb: Math.max(0, Number(info.total_memory ?? 0) - dom0),
      cores: Number(info.nr_cpus ?? 0),
      diskGb: Math.floor((s.bavail * s.bsize) / 1024 ** 3),
    };
  }

  async list(): Promise<DomainInfo[]> {
    return (await this.domains())
      .map((d) => this.info(d, this.read(d.name)))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }

  async get(instanceId: string): Promise<DomainInfo | undefined> {
    if (!isInstanceId(instanceId)) return undefined;
    try {
      const [d] = parseXlList(await this.xl(["list", instanceId]));
      return d && this.info(d, this.read(instanceId));
    } catch (e) {
      if (e instanceof HypervisorError && e.kind === "not-found") return undefined;
      throw e;
    }
  }

  async start(spec: DomainSpec): Promise<DomainInfo> {
    if (await this.get(spec.instanceId))
      throw new HypervisorError("exists", `instance ${spec.instanceId} is already running`);
    checkBootFiles(spec);
    const free = Number(parseXlInfo(await this.xl(["info"])).free_memory ?? 0);
    if (spec.memoryMb > free)
      throw new HypervisorError(
        "capacity",
        `not enough memory for ${spec.instanceId}: ${spec.memoryMb} MB requested, ${free} MB free`,
      );
    const cfg = this.cfgFile(spec.instanceId);
    writeFileSync(cfg, xlConfig(spec, this.o.guestType), { mode: 0o600 });
    this.files.write(spec.instanceId, { spec, startedAt: this.o.clock.now().toISOString(), attached: [] });
    try {
      await this.xl(["create", cfg], (k) => (k === "exists" ? "exists" : "start-failed"), 120_000);
    } catch (e) {
      // libxl tears down a domain it failed to build; make sure, then forget it.
      await this.o.run(this.xlBin, ["destroy", spec.instanceId]).catch(() => undefined);
      this.forget(spec.instanceId);
      throw e;
    }
    const d = await this.get(spec.instanceId);
    if (!d) throw new HypervisorError("start-failed", `xl create returned but ${spec.instanceId} is not listed`);
    return d;
  }

  async stop(instanceId: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? this.o.stopTimeoutMs ?? 60_000;
    try {
      await this.xl(["shutdown", "-w", instanceId], undefined, timeoutMs);
    } catch (e) {
      if (e instanceof HypervisorError && e.kind === "not-found") throw e;
      // Not down in time (or the guest ignored it): pull the plug.
      await this.destroy(instanceId);
      return;
    }
    await this.destroy(instanceId); // a preserved domain is removed too
  }

  async reboot(instanceId: string): Promise<void> {
    await this.xl(["reboot", instanceId]);
  }

  async destroy(instanceId: string): Promise<void> {
    if (!isInstanceId(instanceId)) return;
    try {
      await this.xl(["destroy", instanceId]);
    } catch (e) {
      if (!(e instanceof HypervisorError && e.kind === "not-found")) throw e;
    }
    this.forget(instanceId);
  }

  async consoleOutput(instanceId: string): Promise<string> {
    if (!this.read(instanceId) && !(await this.get(instanceId)))
      throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    return consoleTail(join(this.consoleDir, `guest-${instanceId}.log`));
  }

  private async running(instanceId: string): Promise<DomainState> {
    const st = this.read(instanceId);
    if (!st || !(await this.get(instanceId)))
      throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    return st;
  }

  async attachDisk(instanceId: string, disk: DiskSpec): Promise<void> {
    if (disk.nbd || disk.iscsi)
      throw new HypervisorError(
        "unsupported",
        "xl's backends here open files and block devices; a volume on another host needs its SC on this node's host (or an iSCSI target the node logs in to)",
      );
    await this.files.attach(instanceId, await this.running(instanceId), disk, async () => {
      await this.xl([
        "block-attach",
        instanceId,
        `format=${disk.format ?? "raw"},vdev=${disk.device},access=${disk.readOnly ? "ro" : "rw"},target=${disk.path}`,
      ]);
    });
  }

  async detachDisk(instanceId: string, device: string): Promise<void> {
    await this.files.detach(instanceId, await this.running(instanceId), device, async () => {
      await this.xl(["block-detach", instanceId, device]);
    });
  }

  /** xl has no external snapshots of a running guest's disk (libxl's qdisk could, but not through xl). */
  async freezeDisk(instanceId: string): Promise<void> {
    await this.running(instanceId);
    throw new HypervisorError(
      "unsupported",
      "xl cannot hold a running guest's disk still; the snapshot is read while the guest writes",
    );
  }

  async thawDisk(): Promise<void> {}

  /** Xen guests sit on a bridge and are reached at their own address: there is nothing to forward. */
  async setForwards(instanceId: string, forwards: readonly PortForward[]): Promise<ForwardResult> {
    await this.running(instanceId);
    if (forwards.length)
      throw new HypervisorError(
        "unsupported",
        "the xen driver does not forward host ports: guests are reached on their bridge",
      );
    return { failed: [] };
  }

  private readonly power = noPowerControl("xen");
  readonly powerDown = this.power.powerDown;
  readonly powerUp = this.power.powerUp;

  /** xl migrate needs a shared disk path and an ssh-reachable peer; this driver does not move guests. */
  private unsupported(): never {
    throw new HypervisorError(
      "unsupported",
      "the xen driver does not migrate guests; drain a xen node by stopping its instances",
    );
  }

  async migrationDisks(): Promise<AttachedDisk[]> {
    return this.unsupported();
  }

  async receiveMigration(): Promise<void> {
    this.unsupported();
  }

  async sendMigration(): Promise<MigrationFigures> {
    return this.unsupported();
  }

  async completeMigration(): Promise<void> {
    this.unsupported();
  }
}
