/**
 * A complete hypervisor without VMs, for tests and scale simulation. Each domain is
 * a JSON record under its state directory (written atomically), so it survives an
 * NC restart; memory and cores are claimed from a configured host; the guest "boots"
 * after `bootDelayMs` and writes a console log; named failure modes can be switched
 * on at run time through failures.json in the same directory.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/files";
import type { Clock } from "../../common/clock";
import { consoleTail } from "../console";
import { checkInstanceId, isInstanceId } from "../domain-state";
import { checkForwards } from "../forwards";
import { forwardKey } from "../../net/port-forwards";
import {
  HypervisorError,
  type AttachedDisk,
  type Capabilities,
  type DiskSpec,
  type MigrationFigures,
  type DomainInfo,
  type DomainSpec,
  type HostInfo,
  type ForwardResult,
  type Hypervisor,
  type PortForward,
} from "../types";

export type FakeHost = HostInfo;

/** Failure modes, read from failures.json on every call (tests flip them while the NC runs). */
export interface FakeFailures {
  /** Instance ids whose start fails (or "*" for all). */
  startFails?: string[];
  /** Instance ids whose guest has crashed. */
  crashed?: string[];
  /** The hypervisor does not answer at all. */
  unreachable?: boolean;
}

interface Record_ {
  spec: DomainSpec;
  startedAt: string;
  boots: number;
  /** Forwards in force (as QEMU's would be: one address and port belongs to one guest). */
  forwards?: PortForward[];
  /** Disks held still for a snapshot, with their overlay. */
  frozen?: Record<string, string>;
  /** Waiting for a live migration's state (it runs once completeMigration says so). */
  incoming?: boolean;
}

export class FakeHypervisor implements Hypervisor {
  constructor(
    private readonly dir: string,
    private readonly host: FakeHost,
    private readonly clock: Clock,
    private readonly opts: { bootDelayMs?: number } = {},
  ) {
    mkdirSync(join(dir, "domains"), { recursive: true, mode: 0o700 });
  }

  capabilities(): Capabilities {
    return {
      name: "fake",
      directKernelBoot: true,
      diskHotplug: true,
      powerControl: true,
      realGuests: false,
      portForwarding: true,
      liveMigration: true,
      guest: { root: "sda1", ephemeral: "sda2", swap: "sda3", console: "ttyS0" },
    };
  }

  private failures(): FakeFailures {
    const f = join(this.dir, "failures.json");
    return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as FakeFailures) : {};
  }

  /** Switches failure modes (tests; `euca` operators simulating faults). */
  setFailures(f: FakeFailures): void {
    writeFileAtomic(join(this.dir, "failures.json"), JSON.stringify(f), 0o600);
  }

  private reachable(): void {
    if (this.failures().unreachable)
      throw new HypervisorError("unreachable", "the fake hypervisor is set to be unreachable");
    if (this.asleep()) throw new HypervisorError("unreachable", "the host is powered down");
  }

  /** Power state is a file too, so a sleeping host stays asleep across an NC restart. */
  private asleep(): boolean {
    return existsSync(join(this.dir, "asleep"));
  }

  private file(id: string): string {
    return join(this.dir, "domains", `${checkInstanceId(id)}.json`);
  }

  private read(id: string): Record_ | undefined {
    const f = this.file(id);
    return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as Record_) : undefined;
  }

  private info(r: Record_): DomainInfo {
    const crashed = (this.failures().crashed ?? []).includes(r.spec.instanceId);
    const booted = this.clock.now().getTime() >= Date.parse(r.startedAt) + (this.opts.bootDelayMs ?? 0);
    return {
      instanceId: r.spec.instanceId,
      memoryMb: r.spec.memoryMb,
      cores: r.spec.cores,
      startedAt: r.startedAt,
      disks: r.spec.disks,
      state: crashed ? "crashed" : booted && !r.incoming ? "running" : "pending",
      ...(crashed ? { reason: "the guest crashed (fake failure mode)" } : {}),
      ...(r.forwards ? { forwards: r.forwards } : {}),
      ...(r.incoming ? { incoming: true as const } : {}),
    };
  }

  private records(): Record_[] {
    return readdirSync(join(this.dir, "domains"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(readFileSync(join(this.dir, "domains", f), "utf8")) as Record_);
  }

  async describeHost(): Promise<HostInfo> {
    this.reachable();
    return { ...this.host };
  }

  async list(): Promise<DomainInfo[]> {
    this.reachable();
    return this.records()
      .map((r) => this.info(r))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }

  async get(instanceId: string): Promise<DomainInfo | undefined> {
    this.reachable();
    const r = this.read(instanceId);
    return r && this.info(r);
  }

  private console(spec: DomainSpec, line: string): void {
    appendFileSync(spec.consolePath, `[${this.clock.now().toISOString()}] ${line}\n`);
  }

  /** Refuses a domain that exists, that the failure modes refuse, or that does not fit. */
  private admit(spec: DomainSpec): void {
    this.reachable();
    if (this.read(spec.instanceId))
      throw new HypervisorError("exists", `instance ${spec.instanceId} is already running`);
    const fails = this.failures().startFails ?? [];
    if (fails.includes("*") || fails.includes(spec.instanceId))
      throw new HypervisorError("start-failed", `the fake hypervisor refused to start ${spec.instanceId}`);
    const used = this.records().reduce((u, r) => ({ mem: u.mem + r.spec.memoryMb, cores: u.cores + r.spec.cores }), {
      mem: 0,
      cores: 0,
    });
    if (used.mem + spec.memoryMb > this.host.memoryMb || used.cores + spec.cores > this.host.cores) {
      throw new HypervisorError(
        "capacity",
        `not enough capacity for ${spec.instanceId}: ${spec.memoryMb} MB / ${spec.cores} cores requested, ${this.host.memoryMb - used.mem} MB / ${this.host.cores - used.cores} cores free`,
      );
    }
  }

  async start(spec: DomainSpec): Promise<DomainInfo> {
    this.admit(spec);
    const nic = spec.nics[0];
    const wanted = nic?.mode === "user" ? (nic.forwards ?? []) : [];
    checkForwards(wanted);
    const r: Record_ = { spec, startedAt: this.clock.now().toISOString(), boots: 1 };
    r.forwards = this.free(spec.instanceId, wanted).kept;
    writeFileAtomic(this.file(spec.instanceId), JSON.stringify(r), 0o600);
    this.console(
      spec,
      `fake BIOS: booting ${spec.instanceId} (${spec.memoryMb} MB, ${spec.cores} cpu) kernel=${spec.kernel ?? "disk"} ${spec.kernelArgs ?? ""}`.trim(),
    );
    this.console(spec, `${spec.instanceId} login:`);
    return this.info(r);
  }

  async stop(instanceId: string): Promise<void> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    this.console(r.spec, "reboot: Power down");
    rmSync(this.file(instanceId), { force: true });
  }

  async reboot(instanceId: string): Promise<void> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    this.console(r.spec, "reboot: Restarting system");
    const next: Record_ = { ...r, startedAt: this.clock.now().toISOString(), boots: r.boots + 1 };
    writeFileAtomic(this.file(instanceId), JSON.stringify(next), 0o600);
    this.console(r.spec, `fake BIOS: booting ${instanceId} (boot ${next.boots})`);
    this.console(r.spec, `${instanceId} login:`);
  }

  async destroy(instanceId: string): Promise<void> {
    this.reachable();
    if (!isInstanceId(instanceId)) return;
    rmSync(this.file(instanceId), { force: true });
  }

  async consoleOutput(instanceId: string): Promise<string> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    return consoleTail(r.spec.consolePath);
  }

  /** The forwards no other domain holds (those are refused, as a taken port is by QEMU). */
  private free(id: string, wanted: readonly PortForward[]): ForwardResult & { kept: PortForward[] } {
    const taken = new Set(
      this.records()
        .filter((r) => r.spec.instanceId !== id)
        .flatMap((r) => (r.forwards ?? []).map(forwardKey)),
    );
    const kept = wanted.filter((f) => !taken.has(forwardKey(f)));
    return {
      kept,
      failed: wanted
        .filter((f) => taken.has(forwardKey(f)))
        .map((forward) => ({ forward, reason: `${forwardKey(forward)} is held by another guest` })),
    };
  }

  async setForwards(instanceId: string, forwards: readonly PortForward[]): Promise<ForwardResult> {
    this.reachable();
    checkForwards(forwards);
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    const { kept, failed } = this.free(instanceId, forwards);
    writeFileAtomic(this.file(instanceId), JSON.stringify({ ...r, forwards: kept }), 0o600);
    return { failed };
  }

  async attachDisk(instanceId: string, disk: DiskSpec): Promise<void> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    if (r.spec.disks.some((d) => d.device === disk.device))
      throw new HypervisorError("device-busy", `device ${disk.device} is in use on ${instanceId}`);
    writeFileAtomic(
      this.file(instanceId),
      JSON.stringify({ ...r, spec: { ...r.spec, disks: [...r.spec.disks, disk] } }),
      0o600,
    );
  }

  async detachDisk(instanceId: string, device: string): Promise<void> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    if (!r.spec.disks.some((d) => d.device === device))
      throw new HypervisorError("not-attached", `no device ${device} on ${instanceId}`);
    writeFileAtomic(
      this.file(instanceId),
      JSON.stringify({ ...r, spec: { ...r.spec, disks: r.spec.disks.filter((d) => d.device !== device) } }),
      0o600,
    );
  }

  /** The fake has no guest writing: a frozen disk is only marked so (the overlay file is made, as a real driver's). */
  async freezeDisk(instanceId: string, device: string, overlayPath: string): Promise<void> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    if (!r.spec.disks.some((d) => d.device === device))
      throw new HypervisorError("not-attached", `no device ${device} on ${instanceId}`);
    writeFileAtomic(overlayPath, "", 0o600);
    writeFileAtomic(
      this.file(instanceId),
      JSON.stringify({ ...r, frozen: { ...(r.frozen ?? {}), [device]: overlayPath } }),
      0o600,
    );
  }

  async thawDisk(instanceId: string, device: string): Promise<void> {
    const r = this.read(instanceId);
    const overlay = r?.frozen?.[device];
    if (!r || !overlay) return;
    rmSync(overlay, { force: true });
    const { [device]: _gone, ...rest } = r.frozen!;
    writeFileAtomic(this.file(instanceId), JSON.stringify({ ...r, frozen: rest }), 0o600);
  }

  async powerDown(): Promise<void> {
    this.reachable();
    const n = this.records().length;
    if (n > 0) throw new HypervisorError("busy", `the host still runs ${n} domain(s)`);
    writeFileAtomic(join(this.dir, "asleep"), this.clock.now().toISOString(), 0o600);
  }

  async powerUp(): Promise<void> {
    if (this.failures().unreachable)
      throw new HypervisorError("unreachable", "the fake hypervisor is set to be unreachable");
    rmSync(join(this.dir, "asleep"), { force: true });
  }

  /** The fake's local disks are its first three; what came later was hot-plugged. */
  async migrationDisks(instanceId: string): Promise<AttachedDisk[]> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    return r.spec.disks.filter((d) => d.volumeId);
  }

  async receiveMigration(spec: DomainSpec, attached: readonly AttachedDisk[]): Promise<void> {
    this.admit(spec);
    const r: Record_ = {
      spec: { ...spec, disks: [...spec.disks, ...attached.map(({ slot: _s, ...d }) => d)] },
      startedAt: this.clock.now().toISOString(),
      boots: 1,
      incoming: true,
    };
    writeFileAtomic(this.file(spec.instanceId), JSON.stringify(r), 0o600);
  }

  async sendMigration(instanceId: string): Promise<MigrationFigures> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    this.console(r.spec, "fake: migrated away");
    return { totalMs: 0, downtimeMs: 0, ramBytes: r.spec.memoryMb * 1024 * 1024, diskBytes: 0 };
  }

  async completeMigration(instanceId: string): Promise<void> {
    this.reachable();
    const r = this.read(instanceId);
    if (!r?.incoming) throw new HypervisorError("not-found", `no migration of ${instanceId} is waiting here`);
    const { incoming: _i, ...running } = r;
    writeFileAtomic(this.file(instanceId), JSON.stringify({ ...running, startedAt: new Date(0).toISOString() }), 0o600);
    this.console(r.spec, "fake: migrated in");
  }
}
