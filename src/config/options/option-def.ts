/** One setting's declaration: its flag, config-file key (and EUCA_* variable), default, help and parser. */
import type { RoleName, Settings } from "../setting-types";

export interface OptionDef<K extends keyof Settings> {
  key: K;
  flag: string; // commander flag, e.g. "--ec2-port <port>"
  file: string; // config-file key and EUCA_<file> environment variable
  help: string;
  default: () => string;
  parse(raw: string, source: string): Settings[K];
  /** Whether the admin may change it on the web interface's settings page (kept in the config file). */
  editable?: boolean;
  /**
   * Whether a change is in force at once: `true` where it is read as it is used; a role's
   * name where only that role reads it live (in force at once where it runs in the process
   * that took the change, else from the next start).
   */
  live?: true | RoleName;
  /** The site's: the same on every host of the cloud, handed by the CLC to each host that joins (config/site-settings.ts). */
  site?: true;
  /** Left off the settings page (a private key's path). */
  unlisted?: boolean;
  /** The value as the config file would give it (default: a list joined by commas, else as a string). */
  show?(value: Settings[K]): string;
}

/** Some settings' declarations, each checked against its own key. */
export type OptionTable = { [K in keyof Settings]?: OptionDef<K> };
