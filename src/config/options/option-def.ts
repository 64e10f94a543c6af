/** One setting's declaration: its flag, config-file key (and EUCA_* variable), default, help and parser. */
import type { Settings } from "../setting-types";

export interface OptionDef<K extends keyof Settings> {
  key: K;
  flag: string; // commander flag, e.g. "--ec2-port <port>"
  file: string; // config-file key and EUCA_<file> environment variable
  help: string;
  default: () => string;
  parse(raw: string, source: string): Settings[K];
  /** The value as the config file would give it (default: a list joined by commas, else as a string). */
  show?(value: Settings[K]): string;
}

/** Some settings' declarations, each checked against its own key. */
export type OptionTable = { [K in keyof Settings]?: OptionDef<K> };
