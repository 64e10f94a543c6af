import { rmSync } from "node:fs";
import { join } from "node:path";
import { FakeHypervisor, type FakeFailures } from "../../src/hypervisor/fake/fake-hypervisor";
import { tempDir } from "../support/cloud";
import { hypervisorContract } from "../contracts/hypervisor.contract";

hypervisorContract("fake (state on disk, boot delay 5 s)", async () => {
  const dir = tempDir("euca-fake-hv-");
  let now = Date.parse("2026-11-21T00:00:00Z");
  const clock = { now: () => new Date(now) };
  const host = { memoryMb: 4096, cores: 4, diskGb: 100 };
  const make = () => new FakeHypervisor(join(dir, "state"), host, clock, { bootDelayMs: 5000 });
  const hv = make();
  const failures: FakeFailures = {};
  const apply = () => hv.setFailures(failures);
  return {
    hv,
    reopen: make,
    dir,
    booted: async () => void (now += 60_000),
    volume: (name) => join(dir, name),
    faults: {
      failStart: (id) => {
        failures.startFails = [...(failures.startFails ?? []), id];
        apply();
      },
      crash: (id) => {
        failures.crashed = [...(failures.crashed ?? []), id];
        apply();
      },
      unreachable: (on) => {
        failures.unreachable = on;
        apply();
      },
    },
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

import { describe, expect, it } from "vitest";
import { baseSpec as spec } from "../contracts/hypervisor.contract";

describe("fake hypervisor specifics", () => {
  it("a guest is pending until its boot delay has passed, then running; capacity is released on destroy", async () => {
    const dir = tempDir("euca-fake-hv-");
    let now = 0;
    const hv = new FakeHypervisor(
      join(dir, "state"),
      { memoryMb: 512, cores: 2, diskGb: 10 },
      { now: () => new Date(now) },
      { bootDelayMs: 1000 },
    );
    const a = spec(dir, { memoryMb: 512 });
    expect((await hv.start(a)).state).toBe("pending");
    now += 999;
    expect((await hv.get(a.instanceId))?.state).toBe("pending");
    now += 1;
    expect((await hv.get(a.instanceId))?.state).toBe("running");
    await expect(hv.start(spec(dir, { memoryMb: 1 }))).rejects.toMatchObject({ kind: "capacity" });
    await hv.destroy(a.instanceId);
    await hv.start(spec(dir, { memoryMb: 512 }));
  });
});
