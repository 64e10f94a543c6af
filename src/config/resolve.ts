/** Resolves Settings from flags, EUCA_* environment, a config file and defaults, in that order. */
import { readFileSync } from "node:fs";
import { ConfigError, FILE_KEYS, OPTION_KEYS, OPTIONS, type Settings } from "./settings";

/**
 * Config file: shell style, as eucalyptus.conf was. `KEY=value` or `KEY="value"` per
 * line, `#` comments, keys as in docs/configuration.md. Unknown keys are an error.
 */
export function parseConfigFile(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!m) throw new ConfigError(`${file}:${i + 1}: expected KEY=value, got '${trimmed}'`);
    const [, key, rawValue] = m as unknown as [string, string, string];
    if (!FILE_KEYS.includes(key))
      throw new ConfigError(`${file}:${i + 1}: unknown setting ${key}; valid settings: ${FILE_KEYS.join(", ")}`);
    let value = rawValue.trim();
    const q = /^"(.*)"$|^'(.*)'$/.exec(value);
    if (q) value = q[1] ?? q[2] ?? "";
    else value = value.replace(/\s+#.*$/, "");
    out.set(key, value);
  });
  return out;
}

export interface ConfigSources {
  /** Values given as command-line flags (commander's parsed options, camelCase keys). */
  flags: Partial<Record<keyof Settings | "config", string>>;
  env: NodeJS.ProcessEnv;
}

export function resolveSettings(sources: ConfigSources): Settings {
  return resolveSettingsWithSources(sources).settings;
}

/** Settings, and which of them were given (by a flag, the environment or the config file) rather than defaulted. */
export function resolveSettingsWithSources({ flags, env }: ConfigSources): {
  settings: Settings;
  given: ReadonlySet<keyof Settings>;
} {
  const given = new Set<keyof Settings>();
  const configFile = flags.config ?? env.EUCA_CONFIG;
  const file = configFile ? parseConfigFile(readConfig(configFile), configFile) : new Map<string, string>();
  const settings = {} as Record<string, unknown>;
  for (const key of OPTION_KEYS) {
    const def = OPTIONS[key];
    const envName = `EUCA_${def.file}`;
    const flagName = def.flag.split(" ")[0]!;
    const [raw, source] =
      flags[key] !== undefined
        ? [String(flags[key]), flagName] // a bare boolean flag arrives as true
        : env[envName] !== undefined
          ? [env[envName]!, envName]
          : file.has(def.file)
            ? [file.get(def.file)!, `${configFile} ${def.file}`]
            : [def.default(), `default ${flagName}`];
    if (!source.startsWith("default ")) given.add(key);
    settings[key] = def.parse(raw, source);
  }
  return { settings: settings as unknown as Settings, given };
}

function readConfig(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
}
