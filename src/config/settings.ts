/**
 * Every setting of `euca run` / `euca init`, declared once: its flag, its EUCA_*
 * environment variable, its config-file key, its default and its help. Precedence:
 * flags > EUCA_* environment > config file > defaults (docs/configuration.md).
 */
export * from "./setting-types";
export { OPTIONS, OPTION_KEYS, FILE_KEYS, parseRoles } from "./options";
export { ConfigError, parseIpRanges, parseMacMap } from "./values";
