/**
 * Chooses the hypervisor driver named by --hypervisor. `auto` takes xen when `xl info`
 * answers (a dom0), else qemu when qemu-system-x86_64 runs (KVM only when a probe guest really runs
 * fast under it, else TCG), else fake; the ready line says which and why is logged.
 */
import type { Logger } from "pino";
import type { Clock } from "../common/clock";
import { runCommand, type CommandRunner } from "../common/run-command";
import { ConfigError, type HypervisorName, type QemuAccelSetting } from "../config/settings";
import { FakeHypervisor, type FakeHost } from "./fake/fake-hypervisor";
import { QemuHypervisor } from "./qemu/qemu-hypervisor";
import { XenHypervisor } from "./xen/xen-hypervisor";
import { chooseAccel } from "./qemu/probe";
import type { Accel } from "./qemu/args";
import type { Hypervisor } from "./types";

export interface HypervisorContext {
  /** Where each driver keeps its state (domains, pid files, sockets). */
  stateDir: (driver: "fake" | "qemu" | "xen") => string;
  /** What the fake driver's host offers. */
  fakeHost: FakeHost;
  clock: Clock;
  log: Logger;
  qemuAccel: QemuAccelSetting;
  /** The metadata service guests reach as 169.254.169.254 (rootless QEMU forwards to it). */
  metadata?: () => { host: string; port: number } | undefined;
  run?: CommandRunner;
}

const QEMU = "qemu-system-x86_64";

async function works(run: CommandRunner, cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await run(cmd, args, { timeoutMs: 10_000 })).code === 0;
  } catch {
    return false; // not installed
  }
}

function qemu(c: HypervisorContext): Hypervisor {
  const accel: Promise<Accel> = c.qemuAccel !== "auto"
    ? Promise.resolve(c.qemuAccel)
    : chooseAccel(QEMU).then((choice) => {
        c.log.info({ accel: choice.accel, why: choice.why }, "qemu acceleration");
        return choice.accel;
      });
  return new QemuHypervisor({ stateDir: c.stateDir("qemu"), accel, clock: c.clock, metadata: c.metadata });
}

export async function createHypervisor(name: HypervisorName, c: HypervisorContext): Promise<Hypervisor> {
  const run = c.run ?? runCommand;
  const fake = () => new FakeHypervisor(c.stateDir("fake"), c.fakeHost, c.clock);
  const xen = () => new XenHypervisor({ stateDir: c.stateDir("xen"), run, clock: c.clock });
  switch (name) {
    case "fake":
      return fake();
    case "qemu":
      if (!(await works(run, QEMU, ["--version"]))) throw new ConfigError(`--hypervisor qemu: ${QEMU} does not run here; install Debian's qemu-system-x86 (docs/hypervisors.md)`);
      return qemu(c);
    case "xen":
      if (!(await works(run, "xl", ["info"]))) throw new ConfigError("--hypervisor xen: `xl info` fails here (no Xen dom0, or xen-utils missing; docs/hypervisors.md)");
      return xen();
    case "auto":
      if (await works(run, "xl", ["info"])) return xen();
      if (await works(run, QEMU, ["--version"])) return qemu(c);
      c.log.info("no hypervisor found (no qemu-system-x86_64): using the fake driver");
      return fake();
  }
}

/** How the ready line names the driver: e.g. "qemu/tcg", "fake (auto)". */
export function describeHypervisor(h: Hypervisor, setting: HypervisorName): string {
  const caps = h.capabilities();
  return `${caps.name}${caps.acceleration ? `/${caps.acceleration}` : ""}${setting === "auto" ? " (auto)" : ""}`;
}
