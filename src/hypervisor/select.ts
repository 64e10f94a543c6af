/** Chooses the hypervisor driver named by --hypervisor. */
import type { Clock } from "../common/clock";
import { ConfigError, type HypervisorName } from "../cli/options";
import { FakeHypervisor, type FakeHost } from "./fake/fake-hypervisor";
import type { Hypervisor } from "./types";

/**
 * `fake` runs instances without VMs (tests, simulations, trying euca out). The xen and
 * qemu drivers are not part of this release: asking for them is refused rather than
 * silently faked; `auto` falls back to fake and the ready line says so.
 */
export function createHypervisor(name: HypervisorName, stateDir: string, host: FakeHost, clock: Clock): Hypervisor {
  if (name === "xen" || name === "qemu") throw new ConfigError(`the ${name} driver is not available in this release; use --hypervisor fake (or auto)`);
  return new FakeHypervisor(stateDir, host, clock);
}
