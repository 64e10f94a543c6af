/**
 * Every setting of `euca run` / `euca init`, declared once (in options/, by topic): its flag,
 * its EUCA_* environment variable, its config-file key, its default, its help and its parser.
 * The type below makes the table complete: a setting without a declaration does not compile.
 */
import type { Settings } from "./setting-types";
import type { OptionDef } from "./options/option-def";
import { HOST_OPTIONS } from "./options/host";
import { WEB_OPTIONS } from "./options/web";
import { COMPUTE_OPTIONS } from "./options/compute";
import { NETWORK_OPTIONS } from "./options/network";
import { STORAGE_OPTIONS } from "./options/storage";

export { parseRoles } from "./options/parsers";
export type { OptionDef } from "./options/option-def";

export const OPTIONS: { [K in keyof Settings]: OptionDef<K> } = {
  ...HOST_OPTIONS,
  ...WEB_OPTIONS,
  ...COMPUTE_OPTIONS,
  ...NETWORK_OPTIONS,
  ...STORAGE_OPTIONS,
};

export const OPTION_KEYS = Object.keys(OPTIONS) as Array<keyof Settings>;
export const FILE_KEYS = OPTION_KEYS.map((k) => OPTIONS[k].file);
