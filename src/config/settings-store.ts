/**
 * The running cloud's settings: the values every role reads (one shared object, read where
 * used, so a live change is seen at once), what the settings page lists, and changes —
 * checked by the setting's own parser, kept in the config file, in force now where the
 * setting is live in this process (options/: `editable`, `live`), told to whoever follows it.
 */
import { InvalidParameterError } from "../common/errors";
import { setConfigValue, unsetConfigValue } from "./config-file";
import { OPTIONS, OPTION_KEYS } from "./options";
import type { RoleName, Settings } from "./setting-types";

/** A cloud setting as the admin's page shows it. */
export interface SettingView {
  key: string;
  file: string;
  value: string;
  source: string;
  help: string;
  /** Whether the admin may change it here (kept in the config file). */
  editable: boolean;
  /** Whether a change is in force at once (else from the next start). */
  live: boolean;
}

export interface SettingsStore {
  /** The values, shared: roles read them where they use them. */
  readonly values: Readonly<Settings>;
  get<K extends keyof Settings>(key: K): Settings[K];
  list(): SettingView[];
  /** Changes one setting from the settings page: when it is in force. */
  set(key: string, raw: string): "now" | "next start";
  /** Puts a setting back to its default (its line leaves the config file): when that is in force. */
  reset(key: string): "now" | "next start";
  /** The values as the config file now gives them: the running ones with the changes waiting for a restart. */
  configured(): Settings;
  /** Calls `fn` with each value a live change gives the setting; returns the unsubscribe. */
  onChange<K extends keyof Settings>(key: K, fn: (value: Settings[K]) => void): () => void;
}

const isKey = (k: string): k is keyof Settings => Object.hasOwn(OPTIONS, k);
/** What the admin may change on a running cloud: the settings marked editable, and the site's. */
const changeable = (k: keyof Settings) => Boolean(OPTIONS[k].editable || OPTIONS[k].site);

/** A value as the config file would give it. */
export function shown<K extends keyof Settings>(key: K, v: Settings[K]): string {
  const show = OPTIONS[key].show as ((v: Settings[K]) => string) | undefined;
  if (show) return show(v);
  return Array.isArray(v) ? v.join(",") : String(v);
}

export function createSettingsStore(o: {
  values: Settings;
  /** The config file the settings came from: without one nothing can be changed. */
  configFile?: string;
  /** Which settings were given (a flag, the environment or the file) rather than defaulted. */
  given?: ReadonlySet<keyof Settings>;
}): SettingsStore {
  const values = o.values;
  // Changes kept in the config file that this process takes at its next start.
  const pending: Partial<Settings> = {};
  const listeners = new Map<keyof Settings, Set<(v: never) => void>>();
  const runsHere = (role: RoleName) => values.roles.includes(role);
  const isLive = (k: keyof Settings) => {
    const live = OPTIONS[k].live;
    return live === true || (live !== undefined && runsHere(live));
  };
  const assign = <K extends keyof Settings>(k: K, v: Settings[K]) => {
    values[k] = v;
    for (const fn of listeners.get(k) ?? []) (fn as (v: Settings[K]) => void)(v);
  };
  const waits = <K extends keyof Settings>(k: K, v: Settings[K]) => {
    (pending as Record<K, Settings[K]>)[k] = v;
    return "next start" as const;
  };
  return {
    values,
    get: (key) => values[key],
    list: () =>
      OPTION_KEYS.filter((k) => !OPTIONS[k].unlisted).map((k) => ({
        key: k,
        file: OPTIONS[k].file,
        value: shown(k, values[k]),
        help: OPTIONS[k].help,
        source: o.given?.has(k) ? "given at start" : "default",
        editable: Boolean(o.configFile) && changeable(k),
        live: isLive(k),
      })),
    set(key, raw) {
      if (!o.configFile)
        throw new InvalidParameterError(
          "key",
          "euca was started without --config: settings can be changed here only when they live in a config file",
        );
      if (!isKey(key) || !changeable(key))
        throw new InvalidParameterError("key", `${key} cannot be changed while the cloud runs (only in a config file)`);
      try {
        setConfigValue(o.configFile, key, raw);
      } catch (e) {
        // ConfigError (the value) or a refused file: said as the parameter's problem.
        if (e instanceof Error) throw new InvalidParameterError(key, e.message);
        throw e;
      }
      const parsed = OPTIONS[key].parse(raw, OPTIONS[key].file);
      if (!isLive(key)) return waits(key, parsed);
      assign(key, parsed);
      return "now";
    },
    reset(key) {
      if (!o.configFile || !isKey(key) || !changeable(key))
        throw new InvalidParameterError("key", `${key} cannot be reset while the cloud runs`);
      unsetConfigValue(o.configFile, key);
      const parsed = OPTIONS[key].parse(OPTIONS[key].default(), OPTIONS[key].file);
      if (!isLive(key)) return waits(key, parsed);
      assign(key, parsed);
      return "now";
    },
    configured: () => ({ ...values, ...pending }),
    onChange(key, fn) {
      const set = listeners.get(key) ?? new Set();
      listeners.set(key, set);
      set.add(fn as (v: never) => void);
      return () => set.delete(fn as (v: never) => void);
    },
  };
}
