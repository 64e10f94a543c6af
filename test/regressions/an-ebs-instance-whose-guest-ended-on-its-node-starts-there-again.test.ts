/**
 * Regression: an EBS-backed instance whose guest ended on its node other than by a stop — a
 * staging cut short by a node restart, a guest gone while its node was away — is stopped by
 * the CLC (its root is a volume); StartInstances placed it on the same node again, and the
 * node answered the new run with its old torn-down record, so every start "failed" at once
 * and the instance went back to stopped (found by test/e2e/ebs-instance-crash.test.ts in
 * CI). A node now runs an EBS-backed instance again over any torn-down record but a
 * terminate's, and still never runs a terminated one again.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/common/clock";
import { FakeHypervisor } from "../../src/hypervisor/fake/fake-hypervisor";
import { openNcDatabase } from "../../src/roles/nc/database";
import { NodeImageCache } from "../../src/roles/nc/image-cache";
import { createNodeService } from "../../src/roles/nc/service";
import type { RunInstanceRequest } from "../../src/roles/nc/client";
import { tempDir, testProbe } from "../support/cloud";
import { until } from "../support/until";

const ctx = { requestId: "regression" };

describe("an EBS-backed instance whose guest ended on its node", () => {
  it("starts there again; a terminated one does not", async () => {
    const dir = tempDir("euca-nc-rerun-");
    const hv = new FakeHypervisor(join(dir, "fake"), { memoryMb: 4096, cores: 4, diskGb: 100 }, systemClock);
    const node = createNodeService({
      db: openNcDatabase(join(dir, "nc.db")),
      hypervisor: hv,
      images: new NodeImageCache(join(dir, "cache"), 1024 ** 2, () => undefined),
      probe: testProbe,
      instancesDir: join(dir, "instances"),
      limits: { reservedMemoryMb: 256 },
      clock: systemClock,
      log: pino({ level: "silent" }),
    });
    writeFileSync(join(dir, "root.img"), Buffer.alloc(1024));
    const r: RunInstanceRequest = {
      instanceId: "i-0000ab01",
      reservationId: "r-00000001",
      accountId: "123456789012",
      rootVolume: {
        volumeId: "vol-0000ab01",
        device: "sda1",
        target: { kind: "file", path: join(dir, "root.img"), format: "raw" },
      },
      vmType: { name: "m1.small", cpus: 1, memoryMb: 128, diskGb: 2 },
      nic: { mode: "user", mac: "d0:0d:00:00:ab:01", ip: "10.0.0.2" },
      launchIndex: 0,
      groupNames: ["default"],
    };
    const state = async () => (await node.describeInstances({ instanceIds: [r.instanceId] }, ctx)).instances[0]?.state;
    await node.runInstance(r, ctx);
    await until(async () => (await state()) === "Extant");
    await hv.destroy(r.instanceId); // the guest is gone while its node was away
    expect(await state()).toBe("Teardown");

    await node.runInstance(r, ctx); // the CLC stopped it; the user starts it; the CC placed it here again
    await until(async () => (await state()) === "Extant", { what: "the instance running again" });

    await node.terminateInstance({ instanceId: r.instanceId }, ctx);
    expect((await node.runInstance(r, ctx)).state).toBe("Teardown");
    expect(await hv.get(r.instanceId)).toBeUndefined();
  });
});
