/**
 * What every role assembler shares: the settings, the clock and ids, the log, the
 * data directory, the component keys, the main listener's app, and the list of
 * cleanups (run in reverse at stop, so a role's database closes after what uses it).
 */
import type { Hono } from "hono";
import type { Logger } from "pino";
import type { Clock } from "../common/clock";
import type { IdGenerator } from "../common/ids";
import type { DataDirLayout } from "../common/data-dir";
import type { CloudEndpoints } from "../config/endpoints";
import type { RoleName, Settings } from "../config/settings";
import type { ComponentKeyLookup } from "../rpc/types";
import type { HostTls } from "../rpc/host-tls";

export interface Assembly {
  settings: Settings;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  layout: DataDirLayout;
  version: string;
  has(role: RoleName): boolean;
  /** Keys installed on this host (issued to it by its CLC or CC). */
  lookupKey: ComponentKeyLookup;
  /** This host's certificate and key for mutual TLS (joined hosts, and the head once its CLC made its own). */
  hostTls(): HostTls | undefined;
  /** Revoked host certificates (the CA's list), for every TLS server here. */
  revoked(serial: string): boolean;
  /** The EC2 port's app: EC2, STS/IAM, /services/Walrus, Walrus' internal calls, the heartbeat. */
  mainApp: Hono;
  /**
   * What the main port serves in plain HTTP when its users get HTTPS (and beside them when
   * not): guests' metadata (guests cannot use TLS), calls signed by hosts registered with
   * keys, the heartbeat.
   */
  plainApp: Hono;
  /** The user-facing endpoints, known once the listeners are bound. */
  endpoints(): CloudEndpoints | undefined;
  /** On a host that joined: the site settings (config-file names) it runs with other values than the head's. */
  sitePending(): string[];
  cleanups: Array<() => Promise<void> | void>;
}
