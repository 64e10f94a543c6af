/** What every driver checks of the forwards it is asked for (types.ts: setForwards). */
import { isLoopback, type PortForward } from "../net/port-forwards";
import { HypervisorError } from "./types";

/** Every forward must name a loopback address, a protocol that can be forwarded and a real port. */
export function checkForwards(forwards: readonly PortForward[]): void {
  for (const f of forwards) {
    if (!isLoopback(f.hostIp))
      throw new HypervisorError("invalid", `forwards bind loopback addresses only, not ${f.hostIp}`);
    if (f.protocol !== "tcp" && f.protocol !== "udp")
      throw new HypervisorError("invalid", `cannot forward protocol ${String(f.protocol)}`);
    if (!Number.isInteger(f.port) || f.port < 1 || f.port > 65535)
      throw new HypervisorError("invalid", `port ${f.port} is not 1-65535`);
  }
}
