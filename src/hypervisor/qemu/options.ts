/** What the QEMU driver is given, and what it keeps per domain (beside the domain's directory). */
import type { Clock } from "../../common/clock";
import type { ProgramRunner } from "../../common/run-program";
import type { PortForward } from "../types";
import type { DomainRecord } from "../domain-state";
import type { Accel } from "./args";

export interface QemuOptions {
  stateDir: string;
  /** TCG or KVM; a promise while the probe runs (it needs a second or so, so start-up does not wait for it). */
  accel: Accel | Promise<Accel>;
  clock: Clock;
  /** The qemu-system-x86_64 to run (tests put a wrapper in front). */
  binary?: string;
  /**
   * Where guests' 169.254.169.254 goes in rootless mode: the metadata service. The
   * forwarder binds the instance's private address, so the service knows who asks.
   */
  metadata?: () => { host: string; port: number } | undefined;
  /** How long stop() waits for an ACPI shutdown before it pulls the plug. */
  stopTimeoutMs?: number;
  /** The node's network namespace: QEMU and its taps live there (guests on bridges). */
  netns?: string;
  /** For `ip` (taps); injected so tests can run it for real in their own namespace. */
  run?: ProgramRunner;
}

export interface DomainState extends DomainRecord {
  /** The host forwards in force after the last change (rootless networking). */
  forwards?: PortForward[];
  /** The tap made for the guest on its bridge, removed with the guest. */
  tap?: string;
  /** Waiting, paused, for a live migration's state (it runs once completeMigration says so). */
  incoming?: boolean;
}
