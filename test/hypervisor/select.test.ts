/** --hypervisor auto: xen when `xl info` answers, else qemu when it runs, else fake; explicit choices are checked. */
import { describe, expect, it } from "vitest";
import pino from "pino";
import { createHypervisor, describeHypervisor } from "../../src/hypervisor/select";
import type { ProgramRunner } from "../../src/common/run-program";
import { systemClock } from "../../src/common/clock";
import { join } from "node:path";
import { tempDir } from "../support/cloud";

/** A runner where only the listed commands succeed (what a machine has). */
const machine =
  (works: string[]): ProgramRunner =>
  async (cmd, args) =>
    works.includes(`${cmd} ${args.join(" ")}`)
      ? { code: 0, stdout: "", stderr: "" }
      : { code: 1, stdout: "", stderr: "ERROR:  Can't find hypervisor information in sysfs!" };

function ctx(run: ProgramRunner) {
  const dir = tempDir();
  return {
    stateDir: (d: string) => join(dir, d),
    fakeHost: { memoryMb: 1024, cores: 2, diskGb: 10 },
    clock: systemClock,
    log: pino({ level: "silent" }),
    qemuAccel: "tcg" as const,
    run,
  };
}

describe("hypervisor selection", () => {
  it("auto: xen on a dom0, qemu where QEMU runs, fake otherwise — and the ready line names it", async () => {
    const xen = await createHypervisor("auto", ctx(machine(["xl info", "qemu-system-x86_64 --version"])));
    expect(describeHypervisor(xen, "auto")).toBe("xen/pv (auto)");
    const qemu = await createHypervisor("auto", ctx(machine(["qemu-system-x86_64 --version"])));
    expect(describeHypervisor(qemu, "auto")).toMatch(/^qemu(\/tcg)? \(auto\)$/);
    const fake = await createHypervisor("auto", ctx(machine([])));
    expect(describeHypervisor(fake, "auto")).toBe("fake (auto)");
  });

  it("an explicit driver that cannot run here is a clear configuration error", async () => {
    await expect(createHypervisor("xen", ctx(machine([])))).rejects.toThrow(/xl info.*fails here/);
    await expect(createHypervisor("qemu", ctx(machine([])))).rejects.toThrow(/does not run here/);
    expect(describeHypervisor(await createHypervisor("fake", ctx(machine([]))), "fake")).toBe("fake");
  });
});
