/**
 * The Hypervisor contract (src/hypervisor/types.ts), run against every driver.
 * Failure injection differs per driver, so each setup says how to cause each fault.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { HypervisorError, type DomainSpec, type Hypervisor } from "../../src/hypervisor/types";

export interface HypervisorFixture {
  hv: Hypervisor;
  /** A second driver object over the same state, as after an NC restart. */
  reopen(): Hypervisor;
  /** Scratch directory for console files. */
  dir: string;
  /** What every spec of this driver needs (a real kernel, real disks). */
  base?: Partial<DomainSpec>;
  /** Until the guest has booted and its console holds more than `afterBytes` (the fake lets time pass). */
  booted(instanceId: string, afterBytes?: number): Promise<void>;
  /** A file to hot-plug as a volume. */
  volume(name: string): string;
  /** What a second guest running beside the first needs of its own (a real one: its own root disk). */
  second?: () => Partial<DomainSpec>;
  faults: { failStart(id: string): void; crash(id: string): void | Promise<void>; unreachable?: (on: boolean) => void };
  teardown(): Promise<void>;
}

let n = 0;
export function baseSpec(dir: string, over: Partial<DomainSpec> = {}): DomainSpec {
  const instanceId = `i-${(0xa0000000 + ++n + Math.floor(Math.random() * 1e6)).toString(16).toUpperCase()}`;
  return {
    instanceId,
    memoryMb: 256,
    cores: 1,
    kernel: "/images/vmlinuz",
    ramdisk: "/images/initrd",
    kernelArgs: "console=ttyS0",
    disks: [{ path: "/instances/root", device: "sda1" }],
    nics: [{ mode: "user", mac: "d0:0d:00:00:00:01", ip: "127.64.0.9" }],
    consolePath: join(dir, `${instanceId}.console`),
    ...over,
  };
}

async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof HypervisorError) return e.kind;
    throw e;
  }
}

export function hypervisorContract(name: string, setup: () => Promise<HypervisorFixture>) {
  let current: HypervisorFixture | undefined;
  const withFixture = async (fn: (f: HypervisorFixture) => Promise<void>) => {
    const f = await setup();
    current = f;
    try {
      await fn(f);
    } finally {
      await f.teardown();
    }
  };
  describe(`Hypervisor contract: ${name}`, () => {
    const spec = (dir: string, over: Partial<DomainSpec> = {}) => baseSpec(dir, { ...current?.base, ...over });
    it("starts, lists, boots, writes a console, reboots, stops", () =>
      withFixture(async (f) => {
        const host = await f.hv.describeHost();
        expect(host.memoryMb).toBeGreaterThan(0);
        expect(host.cores).toBeGreaterThan(0);
        const s = spec(f.dir);
        const started = await f.hv.start(s);
        expect(started).toMatchObject({ instanceId: s.instanceId, memoryMb: 256, cores: 1 });
        await f.booted(s.instanceId);
        expect((await f.hv.get(s.instanceId))?.state).toBe("running");
        expect((await f.hv.list()).map((d) => d.instanceId)).toContain(s.instanceId);
        const before = await f.hv.consoleOutput(s.instanceId);
        expect(before.length).toBeGreaterThan(0);
        await f.hv.reboot(s.instanceId);
        await f.booted(s.instanceId, before.length);
        expect((await f.hv.get(s.instanceId))?.state).toBe("running");
        expect((await f.hv.consoleOutput(s.instanceId)).length).toBeGreaterThan(before.length);
        await f.hv.stop(s.instanceId, { timeoutMs: 1000 });
        expect(await f.hv.get(s.instanceId)).toBeUndefined();
      }));

    it("refuses a second start of the same id, and over-commitment, leaving nothing behind", () =>
      withFixture(async (f) => {
        const s = spec(f.dir);
        await f.hv.start(s);
        expect(await kind(f.hv.start(s))).toBe("exists");
        const host = await f.hv.describeHost();
        const big = spec(f.dir, { memoryMb: host.memoryMb + 1 });
        expect(await kind(f.hv.start(big))).toBe("capacity");
        expect(await f.hv.get(big.instanceId)).toBeUndefined();
        await f.hv.destroy(s.instanceId);
      }));

    it("a failed start leaves nothing; destroy is idempotent", () =>
      withFixture(async (f) => {
        const s = spec(f.dir);
        f.faults.failStart(s.instanceId);
        expect(await kind(f.hv.start(s))).toBe("start-failed");
        expect(await f.hv.get(s.instanceId)).toBeUndefined();
        await f.hv.destroy(s.instanceId);
        await f.hv.destroy("i-00000000");
        expect(await kind(f.hv.reboot("i-00000000"))).toBe("not-found");
      }));

    it("reports a crashed guest with a reason", () =>
      withFixture(async (f) => {
        const s = spec(f.dir);
        await f.hv.start(s);
        await f.faults.crash(s.instanceId);
        const d = await f.hv.get(s.instanceId);
        expect(d?.state).toBe("crashed");
        expect(d?.reason).toBeTruthy();
        await f.hv.destroy(s.instanceId);
        expect(await f.hv.get(s.instanceId)).toBeUndefined();
      }));

    it("attaches and detaches disks", () =>
      withFixture(async (f) => {
        const s = spec(f.dir);
        await f.hv.start(s);
        await f.booted(s.instanceId);
        await f.hv.attachDisk(s.instanceId, { path: f.volume("vol-1"), device: "sdb" });
        expect((await f.hv.get(s.instanceId))?.disks.map((d) => d.device)).toEqual([
          ...s.disks.map((d) => d.device),
          "sdb",
        ]);
        expect(await kind(f.hv.attachDisk(s.instanceId, { path: f.volume("vol-2"), device: "sdb" }))).toBe(
          "device-busy",
        );
        await f.hv.detachDisk(s.instanceId, "sdb");
        expect(await kind(f.hv.detachDisk(s.instanceId, "sdb"))).toBe("not-attached");
        await f.hv.destroy(s.instanceId);
      }));

    it("forwards a user card's loopback ports as asked, one guest per address and port, or says it cannot", () =>
      withFixture(async (f) => {
        const host = `127.98.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
        const port = 20000 + Math.floor(Math.random() * 20000);
        const fwd = { protocol: "tcp" as const, hostIp: host, port };
        const nic = (mac: string) => ({ mode: "user" as const, mac, ip: host, forwards: [] });
        const s = spec(f.dir, { nics: [nic("d0:0d:00:00:00:51")] });
        await f.hv.start(s);
        if (!f.hv.capabilities().portForwarding) {
          expect(await kind(f.hv.setForwards(s.instanceId, [fwd]))).toBe("unsupported");
          expect(await kind(f.hv.setForwards(s.instanceId, []))).toBe("ok");
          await f.hv.destroy(s.instanceId);
          return;
        }
        expect(await f.hv.setForwards(s.instanceId, [fwd, { ...fwd, protocol: "udp" }])).toEqual({ failed: [] });
        expect((await f.hv.get(s.instanceId))?.forwards).toEqual([fwd, { ...fwd, protocol: "udp" }]);
        expect((await f.reopen().get(s.instanceId))?.forwards).toEqual([fwd, { ...fwd, protocol: "udp" }]); // kept across an NC restart
        // Another guest cannot take an address and port the first one holds.
        const t = spec(f.dir, { ...f.second?.(), nics: [nic("d0:0d:00:00:00:52")] });
        await f.hv.start(t);
        const r = await f.hv.setForwards(t.instanceId, [fwd, { ...fwd, port: port + 1 }]);
        expect(r.failed.map((x) => x.forward)).toEqual([fwd]);
        expect((await f.hv.get(t.instanceId))?.forwards).toEqual([{ ...fwd, port: port + 1 }]);
        expect(await kind(f.hv.setForwards(s.instanceId, [{ ...fwd, hostIp: "192.0.2.1" }]))).toBe("invalid");
        expect(await kind(f.hv.setForwards(s.instanceId, [{ ...fwd, port: 0 }]))).toBe("invalid");
        await f.hv.setForwards(s.instanceId, []);
        expect((await f.hv.get(s.instanceId))?.forwards ?? []).toEqual([]);
        expect(await kind(f.hv.setForwards("i-0BADF00D", []))).toBe("not-found");
        await f.hv.destroy(t.instanceId);
        await f.hv.destroy(s.instanceId);
      }));

    it("a restarted NC adopts running domains", () =>
      withFixture(async (f) => {
        const s = spec(f.dir);
        await f.hv.start(s);
        const again = f.reopen();
        expect((await again.list()).map((d) => d.instanceId)).toContain(s.instanceId);
        await again.destroy(s.instanceId);
        expect(await f.hv.get(s.instanceId)).toBeUndefined();
      }));

    it("an unreachable hypervisor is a typed error", () =>
      withFixture(async (f) => {
        if (!f.faults.unreachable) return; // a local QEMU has no daemon to lose
        f.faults.unreachable(true);
        expect(await kind(f.hv.list())).toBe("unreachable");
        f.faults.unreachable(false);
        expect(await kind(f.hv.list())).toBe("ok");
      }));

    it("powers an idle host down and up, or says it cannot", () =>
      withFixture(async (f) => {
        if (!f.hv.capabilities().powerControl) {
          expect(await kind(f.hv.powerDown())).toBe("unsupported");
          return;
        }
        const s = spec(f.dir);
        await f.hv.start(s);
        expect(await kind(f.hv.powerDown())).toBe("busy");
        await f.hv.destroy(s.instanceId);
        await f.hv.powerDown();
        expect(await kind(f.hv.describeHost())).toBe("unreachable");
        expect(await kind(f.reopen().list())).toBe("unreachable"); // asleep across an NC restart
        await f.hv.powerUp();
        await f.hv.powerUp(); // idempotent
        expect(await kind(f.hv.describeHost())).toBe("ok");
      }));
  });
}
