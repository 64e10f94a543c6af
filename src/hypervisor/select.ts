/**
 * Chooses the hypervisor driver named by --hypervisor. `auto` takes xen when `xl info`
 * answers (a dom0), else qemu when qemu-system-x86_64 runs (KVM only when a probe guest really runs
 * fast under it, else TCG), else fake; the ready line says which and why is logged.
 */
import type { Logger } from "pino";
import type { Clock } from "../common/clock";
import { runProgram, type ProgramRunner } from "../common/run-program";
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
  run?: ProgramRunner;
}

const QEMU = "qemu-system-x86_64";

async function works(run: ProgramRunner, cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await run(cmd, args, { timeoutMs: 10_000 })).code === 0;
  } catch {
    return false; // not installed
  }
}

/** A driver: whether this host can run it (and what to do when not), and how to make it. */
export interface DriverEntry {
  present(run: ProgramRunner): Promise<boolean>;
  /** Why an explicit --hypervisor cannot be used here, and what to install. */
  missing: string;
  create(c: HypervisorContext, run: ProgramRunner): Hypervisor;
}

/**
 * The drivers, in the order `auto` tries them (a Xen dom0 first, then QEMU, then the
 * fake, which is always present). A new driver is one folder and one line here.
 */
export const DRIVERS: Record<Exclude<HypervisorName, "auto">, DriverEntry> = {
  xen: {
    present: (run) => works(run, "xl", ["info"]),
    missing: "--hypervisor xen: `xl info` fails here (no Xen dom0, or xen-utils missing; docs/hypervisors.md)",
    create: (c, run) => new XenHypervisor({ stateDir: c.stateDir("xen"), run, clock: c.clock }),
  },
  qemu: {
    present: (run) => works(run, QEMU, ["--version"]),
    missing: `--hypervisor qemu: ${QEMU} does not run here; install Debian's qemu-system-x86 (docs/hypervisors.md)`,
    create: (c) => {
      const accel: Promise<Accel> =
        c.qemuAccel !== "auto"
          ? Promise.resolve(c.qemuAccel)
          : chooseAccel(QEMU).then((choice) => {
              c.log.info({ accel: choice.accel, why: choice.why }, "qemu acceleration");
              return choice.accel;
            });
      return new QemuHypervisor({ stateDir: c.stateDir("qemu"), accel, clock: c.clock, metadata: c.metadata });
    },
  },
  fake: {
    present: async () => true,
    missing: "",
    create: (c) => new FakeHypervisor(c.stateDir("fake"), c.fakeHost, c.clock),
  },
};

export async function createHypervisor(name: HypervisorName, c: HypervisorContext): Promise<Hypervisor> {
  const run = c.run ?? runProgram;
  if (name !== "auto") {
    const d = DRIVERS[name];
    if (!(await d.present(run))) throw new ConfigError(d.missing);
    return d.create(c, run);
  }
  for (const [driver, d] of Object.entries(DRIVERS) as Array<[keyof typeof DRIVERS, DriverEntry]>) {
    if (!(await d.present(run))) continue;
    if (driver === "fake") c.log.info("no hypervisor found (no xl dom0, no qemu-system-x86_64): using the fake driver");
    return d.create(c, run);
  }
  throw new ConfigError("no hypervisor driver can run here");
}

/** How the ready line names the driver: e.g. "qemu/tcg", "fake (auto)". */
export function describeHypervisor(h: Hypervisor, setting: HypervisorName): string {
  const caps = h.capabilities();
  return `${caps.name}${caps.acceleration ? `/${caps.acceleration}` : ""}${setting === "auto" ? " (auto)" : ""}`;
}
