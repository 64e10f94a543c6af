/**
 * Instances as qemu-system-x86_64 processes. Each domain has a directory under the
 * driver's state directory (its spec, QEMU's pid file and QMP socket), so a restarted
 * NC adopts what still runs. QEMU is started with -daemonize, so a start returns once
 * QEMU has opened everything (or failed, with its own message); status, reset,
 * power-down, quit and disk hot-plug go through QMP.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { consoleTail } from "../console";
import { checkBootFiles } from "../boot-files";
import { runProgram } from "../../common/run-program";
import {
  HypervisorError,
  type AttachedDisk,
  type Capabilities,
  type DiskSpec,
  type MigrationEndpoint,
  type MigrationFigures,
  type DomainInfo,
  type DomainSpec,
  type HostInfo,
  type ForwardResult,
  type Hypervisor,
  type PortForward,
} from "../types";
import { qemuArgs, type Accel, type QemuNet } from "./args";
import { withQmp } from "./qmp";
import { guestNetwork, ipIn, qemuPid, spawnQemu } from "./host";
import { tapName } from "../tap-name";
import { addOverlay, commitOverlay, plugDisk, unplugDisk } from "./hotplug";
import { awaitIncoming, finishIncoming, sendGuest, writeMigrationKey } from "./migration";
import { applyForwards } from "./hostfwd";
import { checkForwards } from "../forwards";
import { forwardKey } from "../../net/port-forwards";
import { checkInstanceId, DomainFiles, isInstanceId, noPowerControl } from "../domain-state";
import type { DomainState, QemuOptions } from "./options";

export type { QemuOptions } from "./options";

export { tapName };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class QemuHypervisor implements Hypervisor {
  private readonly binary: string;
  private readonly accel: Promise<Accel>;
  private accelKnown?: Accel;

  constructor(private readonly o: QemuOptions) {
    this.binary = o.binary ?? "qemu-system-x86_64";
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    this.accel = Promise.resolve(o.accel).then((a) => (this.accelKnown = a));
  }

  capabilities(): Capabilities {
    return {
      name: "qemu",
      directKernelBoot: true,
      diskHotplug: true,
      acceleration: this.accelKnown,
      powerControl: false,
      realGuests: true,
      portForwarding: true,
      liveMigration: true,
      guest: { root: "vda", ephemeral: "vdb", swap: "vdc", console: "ttyS0" },
    };
  }

  private dir(id: string): string {
    return join(this.o.stateDir, checkInstanceId(id));
  }

  private readonly files = new DomainFiles<DomainState>((id) => join(this.dir(id), "domain.json"));

  private paths(id: string) {
    const d = this.dir(id);
    return { dir: d, state: join(d, "domain.json"), pid: join(d, "qemu.pid"), qmp: join(d, "qmp.sock") };
  }

  private read(id: string): DomainState | undefined {
    return this.files.read(id);
  }

  /** QEMU's pid when it still runs this instance. */
  private pid(id: string): number | undefined {
    return qemuPid(this.paths(id).pid, id);
  }

  private info(st: DomainState): DomainInfo {
    const alive = this.pid(st.spec.instanceId) !== undefined;
    return {
      instanceId: st.spec.instanceId,
      memoryMb: st.spec.memoryMb,
      cores: st.spec.cores,
      startedAt: st.startedAt,
      disks: DomainFiles.disks(st),
      state: alive ? (st.incoming ? "pending" : "running") : "crashed",
      ...(st.forwards ? { forwards: st.forwards } : {}),
      ...(st.incoming ? { incoming: true as const } : {}),
      ...(alive ? {} : { reason: "the instance's QEMU process exited (the guest powered off or crashed)" }),
    };
  }

  async describeHost(): Promise<HostInfo> {
    const s = statfsSync(this.o.stateDir);
    return {
      memoryMb: Math.floor(totalmem() / 1024 ** 2),
      cores: cpus().length,
      diskGb: Math.floor((s.bavail * s.bsize) / 1024 ** 3),
    };
  }

  async list(): Promise<DomainInfo[]> {
    const out: DomainInfo[] = [];
    for (const id of readdirSync(this.o.stateDir).filter(isInstanceId).sort()) {
      const st = this.read(id);
      if (st) out.push(this.info(st));
      else rmSync(this.dir(id), { recursive: true, force: true }); // a start cut short before it wrote anything
    }
    return out;
  }

  async get(instanceId: string): Promise<DomainInfo | undefined> {
    const st = this.read(instanceId);
    return st && this.info(st);
  }

  /** Refuses a domain that runs already or does not fit; clears what a dead QEMU left and makes its directory. */
  private async admit(spec: DomainSpec): Promise<ReturnType<QemuHypervisor["paths"]>> {
    const p = this.paths(spec.instanceId);
    if (existsSync(p.dir)) {
      if (this.pid(spec.instanceId) !== undefined)
        throw new HypervisorError("exists", `instance ${spec.instanceId} is already running`);
      await this.forget(spec.instanceId); // what a dead QEMU left
    }
    checkBootFiles(spec);
    const host = await this.describeHost();
    const used = (await this.list())
      .filter((d) => d.state === "running")
      .reduce((u, d) => ({ mem: u.mem + d.memoryMb, cores: u.cores + d.cores }), { mem: 0, cores: 0 });
    if (used.mem + spec.memoryMb > host.memoryMb) {
      throw new HypervisorError(
        "capacity",
        `not enough memory for ${spec.instanceId}: ${spec.memoryMb} MB requested, ${host.memoryMb - used.mem} MB free`,
      );
    }
    if (p.qmp.length > 107)
      throw new HypervisorError(
        "start-failed",
        `the QMP socket path ${p.qmp} is longer than a unix socket allows; use a shorter data directory`,
      );
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    return p;
  }

  async start(spec: DomainSpec): Promise<DomainInfo> {
    const p = await this.admit(spec);
    const nic = spec.nics[0];
    const forwards = nic?.mode === "user" ? (nic.forwards ?? []) : [];
    checkForwards(forwards);
    const state: DomainState = { spec, startedAt: this.o.clock.now().toISOString(), attached: [] };
    this.files.write(spec.instanceId, state);
    try {
      const net = await this.network(spec);
      if (net.mode === "tap") state.tap = net.ifname;
      this.files.write(spec.instanceId, state);
      // An iSCSI root's CHAP password, where QEMU reads it (never on its command line).
      const secretPath = (device: string) => join(p.dir, `${device}.secret`);
      for (const d of spec.disks) if (d.iscsi) writeFileSync(secretPath(d.device), d.iscsi.password, { mode: 0o600 });
      await this.spawnQemu(
        qemuArgs(spec, { accel: await this.accel, qmpPath: p.qmp, pidPath: p.pid, net, secretPath }),
      );
      if (net.mode === "user") await this.forward(spec.instanceId, forwards);
    } catch (e) {
      await this.kill(spec.instanceId);
      await this.forget(spec.instanceId);
      throw e;
    }
    return this.info(this.read(spec.instanceId) ?? state);
  }

  /** Applies forwards through QMP and records those in force. */
  private async forward(id: string, forwards: readonly PortForward[]): Promise<ForwardResult> {
    const r = await withQmp(this.paths(id).qmp, (c) => applyForwards(c, forwards));
    const failed = new Set(r.failed.map((f) => forwardKey(f.forward)));
    const st = this.read(id);
    if (st) this.files.write(id, { ...st, forwards: forwards.filter((f) => !failed.has(forwardKey(f))) });
    return r;
  }

  async setForwards(instanceId: string, forwards: readonly PortForward[]): Promise<ForwardResult> {
    checkForwards(forwards);
    const st = this.running(instanceId);
    if (st.spec.nics[0]?.mode !== "user") {
      if (forwards.length === 0) return { failed: [] };
      throw new HypervisorError(
        "unsupported",
        `instance ${instanceId} is on a bridge: its ports are reached directly, not forwarded`,
      );
    }
    return this.forward(instanceId, forwards);
  }

  /** `ip` in the node's namespace. */
  private readonly ip = (args: string[]) => ipIn(this.o.run ?? runProgram, this.o.netns, args);

  /** A bridge NIC gets a tap on its bridge; a user NIC rootless user networking. */
  private network(spec: DomainSpec): Promise<QemuNet> {
    return guestNetwork(this.ip, spec, this.o.metadata?.());
  }

  /** Runs QEMU until it daemonizes (in the node's namespace). */
  private spawnQemu(args: string[]): Promise<void> {
    return spawnQemu(this.binary, this.o.netns, args);
  }

  /** Removes what a domain leaves: its tap and its directory. */
  private async forget(id: string): Promise<void> {
    const tap = this.read(id)?.tap;
    if (tap) await this.ip(["link", "del", tap]).catch(() => undefined);
    rmSync(this.paths(id).dir, { recursive: true, force: true });
  }

  private async waitGone(id: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.pid(id) !== undefined) {
      if (Date.now() >= deadline) return false;
      await sleep(50);
    }
    return true;
  }

  private running(id: string): DomainState {
    const st = this.read(id);
    if (!st || this.pid(id) === undefined) throw new HypervisorError("not-found", `instance ${id} is not running`);
    return st;
  }

  async stop(instanceId: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    this.running(instanceId);
    await withQmp(this.paths(instanceId).qmp, (c) => c.execute("system_powerdown")).catch(() => undefined);
    if (!(await this.waitGone(instanceId, opts.timeoutMs ?? this.o.stopTimeoutMs ?? 3000))) await this.kill(instanceId);
    await this.forget(instanceId);
  }

  async reboot(instanceId: string): Promise<void> {
    this.running(instanceId);
    await withQmp(this.paths(instanceId).qmp, (c) => c.execute("system_reset"));
  }

  private async kill(id: string): Promise<void> {
    const pid = this.pid(id);
    if (pid === undefined) return;
    await withQmp(this.paths(id).qmp, (c) => c.execute("quit")).catch(() => undefined);
    if (await this.waitGone(id, 2000)) return;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
    await this.waitGone(id, 5000);
  }

  async destroy(instanceId: string): Promise<void> {
    if (!isInstanceId(instanceId)) return;
    await this.kill(instanceId);
    await this.forget(instanceId);
  }

  async consoleOutput(instanceId: string): Promise<string> {
    const st = this.read(instanceId);
    if (!st) throw new HypervisorError("not-found", `instance ${instanceId} is not running`);
    return consoleTail(st.spec.consolePath);
  }

  async attachDisk(instanceId: string, disk: DiskSpec): Promise<void> {
    await this.files.attach(instanceId, this.running(instanceId), disk, () =>
      withQmp(this.paths(instanceId).qmp, (c) => plugDisk(c, disk)),
    );
  }

  async migrationDisks(instanceId: string): Promise<AttachedDisk[]> {
    const st = this.running(instanceId);
    const buses = await withQmp(this.paths(instanceId).qmp, (c) =>
      c.execute<Array<{ devices: Array<{ slot: number; qdev_id: string }> }>>("query-pci"),
    );
    const slots = new Map(buses.flatMap((b) => b.devices).map((d) => [d.qdev_id, d.slot]));
    return st.attached.map((d) => ({ ...d, slot: slots.get(d.device) }));
  }

  async receiveMigration(spec: DomainSpec, attached: readonly AttachedDisk[], at: MigrationEndpoint): Promise<void> {
    if (spec.nics[0]?.mode === "user")
      throw new HypervisorError(
        "unsupported",
        "a guest on user networking (ROOTLESS) is reached through its own host and cannot move",
      );
    const p = await this.admit(spec);
    const state: DomainState = { spec, startedAt: this.o.clock.now().toISOString(), attached: [], incoming: true };
    this.files.write(spec.instanceId, state);
    try {
      const net = await this.network(spec);
      if (net.mode === "tap") state.tap = net.ifname;
      this.files.write(spec.instanceId, state);
      // Paused (-S) until the source has let go of its disks; waiting for the guest's state.
      await this.spawnQemu([
        ...qemuArgs(spec, { accel: await this.accel, qmpPath: p.qmp, pidPath: p.pid, net }),
        "-S",
        "-incoming",
        "defer",
      ]);
      const keyDir = writeMigrationKey(join(p.dir, "migration"), at.key);
      await withQmp(p.qmp, async (c) => {
        for (const d of attached) await plugDisk(c, d, d.slot);
        await awaitIncoming(c, spec.disks.length, at, keyDir);
      });
      this.files.write(spec.instanceId, { ...state, attached: attached.map(({ slot: _s, ...d }) => d) });
    } catch (e) {
      await this.kill(spec.instanceId);
      await this.forget(spec.instanceId);
      throw e;
    }
  }

  async sendMigration(instanceId: string, to: MigrationEndpoint): Promise<MigrationFigures> {
    const st = this.running(instanceId);
    const keyDir = writeMigrationKey(join(this.dir(instanceId), "migration"), to.key);
    try {
      return await withQmp(this.paths(instanceId).qmp, (c) =>
        sendGuest(c, st.spec.disks.length, to, keyDir, { mirrorTimeoutMs: 30 * 60_000, migrateTimeoutMs: 30 * 60_000 }),
      );
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
    }
  }

  async completeMigration(instanceId: string): Promise<void> {
    const st = this.running(instanceId);
    if (!st.incoming) throw new HypervisorError("not-found", `no migration of ${instanceId} is waiting here`);
    await withQmp(this.paths(instanceId).qmp, (c) => finishIncoming(c, 60_000));
    const { incoming: _i, ...running } = this.read(instanceId) ?? st;
    this.files.write(instanceId, running);
    rmSync(join(this.dir(instanceId), "migration"), { recursive: true, force: true });
  }

  async detachDisk(instanceId: string, device: string): Promise<void> {
    await this.files.detach(instanceId, this.running(instanceId), device, () =>
      withQmp(this.paths(instanceId).qmp, (c) => unplugDisk(c, device)),
    );
  }

  /**
   * An external snapshot of the disk's node: a qcow2 overlay whose backing is the disk's
   * file becomes the drive's top (blockdev-snapshot), so the guest writes to the overlay and
   * the file stands still. thawDisk commits the overlay back (the active-layer block-commit,
   * completed once ready) and drops it; the guest runs throughout.
   */
  async freezeDisk(instanceId: string, device: string, overlayPath: string): Promise<void> {
    const st = this.running(instanceId);
    const disk = DomainFiles.disks(st).find((d) => d.device === device);
    if (!disk) throw new HypervisorError("not-attached", `no device ${device} on ${instanceId}`);
    // The overlay would be here and the disk's file on the SC's host: its SC holds an NBD volume still instead.
    if (disk.nbd || disk.iscsi)
      throw new HypervisorError(
        "unsupported",
        `${device} is served from its storage controller's host; it is held still there (NBD) or read as it is (iSCSI)`,
      );
    const made = await (this.o.run ?? runProgram)(
      "qemu-img",
      ["create", "-q", "-f", "qcow2", "-F", disk.format ?? "raw", "-b", disk.path, overlayPath],
      { timeoutMs: 30_000 },
    );
    if (made.code !== 0) throw new HypervisorError("start-failed", `qemu-img create: ${made.stderr.trim()}`);
    await withQmp(this.paths(instanceId).qmp, (c) => addOverlay(c, device, overlayPath)).catch((e) => {
      rmSync(overlayPath, { force: true });
      throw e;
    });
  }

  async thawDisk(instanceId: string, device: string): Promise<void> {
    await withQmp(this.paths(instanceId).qmp, (c) => commitOverlay(c, device));
  }

  private readonly power = noPowerControl("qemu");
  readonly powerDown = this.power.powerDown;
  readonly powerUp = this.power.powerUp;
}
