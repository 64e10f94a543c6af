/**
 * Regression (found by bench/soak): a TerminateInstances that reached the node while
 * the instance was still staging removed its files and recorded Teardown, but the
 * staging went on — and if the guest was being started at that moment, it ran on
 * and the node recorded it Extant again: a terminated instance kept its VM and its
 * capacity. Now a terminate wins at every step, and a guest that started meanwhile
 * is destroyed again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { systemClock } from "../../src/common/clock";
import { FakeHypervisor } from "../../src/hypervisor/fake/fake-hypervisor";
import type { DomainInfo, DomainSpec } from "../../src/hypervisor/types";
import { openNcDatabase } from "../../src/roles/nc/database";
import { NodeImageCache } from "../../src/roles/nc/image-cache";
import { createNodeService } from "../../src/roles/nc/service";
import { startTestCloud, tempDir, testProbe, type TestCloud } from "../support/cloud";
import { nodeImageRef } from "../support/bundles";

/** The fake hypervisor, with a start that waits until the test lets it finish. */
class GatedHypervisor extends FakeHypervisor {
  entered!: Promise<void>;
  private enter!: () => void;
  private gate!: Promise<void>;
  release!: () => void;
  constructor(dir: string) {
    super(dir, { memoryMb: 4096, cores: 4, diskGb: 100 }, systemClock);
    this.entered = new Promise((r) => (this.enter = r));
    this.gate = new Promise((r) => (this.release = r));
  }
  override async start(spec: DomainSpec): Promise<DomainInfo> {
    this.enter();
    await this.gate;
    return super.start(spec);
  }
}

const ctx = { requestId: "req-stage" };
let t: TestCloud;
let image: { id: string; bucket: string; manifestKey: string };
beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  image = await nodeImageRef(t, "emi-00C0FFEE", 200_000);
});
afterAll(() => t.stop());

describe("a terminate that arrives while the guest is being started", () => {
  it("wins: no domain runs, the node says Teardown, files and capacity are released", async () => {
    const dir = tempDir("euca-nc-");
    const hv = new GatedHypervisor(join(dir, "fake"));
    const node = createNodeService({
      db: openNcDatabase(join(dir, "nc.db")),
      hypervisor: hv,
      images: new NodeImageCache(join(dir, "cache"), 1024 ** 3, () => t.cloud.walrusClient),
      probe: testProbe,
      instancesDir: join(dir, "instances"),
      limits: { reservedMemoryMb: 256 },
      clock: systemClock,
      log: pino({ level: "silent" }),
    });
    const r = {
      instanceId: "i-0BADCAFE",
      reservationId: "r-00000001",
      accountId: "123456789012",
      image,
      vmType: { name: "m1.small", cpus: 1, memoryMb: 128, diskGb: 2 },
      nic: { mode: "user" as const, mac: "d0:0d:00:00:00:01", ip: "10.0.0.2" },
      launchIndex: 0,
      groupNames: ["default"],
    };
    expect((await node.runInstance(r, ctx)).state).toBe("Pending");
    await hv.entered; // staged, and now inside the hypervisor's start
    expect((await node.terminateInstance({ instanceId: r.instanceId }, ctx))?.state).toBe("Teardown");
    hv.release();
    await node.drain();
    expect(await hv.list()).toEqual([]);
    expect(
      (await node.describeInstances({ instanceIds: [r.instanceId] }, ctx)).instances.map((i) => [i.state, i.reason]),
    ).toEqual([["Teardown", "terminated"]]);
    expect(existsSync(join(dir, "instances", r.accountId, r.instanceId))).toBe(false);
    expect((await node.describeResource({}, ctx)).memorySizeAvailable).toBe(4096);
    expect(readFileSync(join(dir, "cache", image.id)).length).toBeGreaterThan(0); // the cached image stays for the next launch
  });
});
