/**
 * The cloud's properties (Eucalyptus' euctl): its settings by their config-file names,
 * each with its value, default and description, changed through the running settings
 * store (checked by the setting's own parser, kept in the config file, live where it can
 * be) — or, for a stopped cloud, through a store over its config file alone.
 */
import { InvalidParameterError } from "../../../common/errors";
import { OPTIONS, OPTION_KEYS, type Settings } from "../../../config/settings";
import { shown, type SettingsStore } from "../../../config/settings-store";

export interface PropertyView {
  name: string;
  value: string;
  defaultValue: string;
  description: string;
  /** Whether the admin may change it while the cloud runs. */
  changeable: boolean;
  /** Where a change is in force: at once ("now"), or from the next start of the hosts named. */
  inForce: string;
}

const keyOf = (name: string): keyof Settings => {
  const upper = name.toUpperCase();
  const k = OPTION_KEYS.find((x) => OPTIONS[x].file === upper);
  if (!k) throw new InvalidParameterError("Name", `No property ${name}; \`euca admin property list\` names them`);
  return k;
};

export function createProperties(store: SettingsStore) {
  const where = (k: keyof Settings, live: boolean): string => {
    if (live) return "now";
    return OPTIONS[k].site
      ? "next start of the head and of every host (hosts that joined write it into their config file within 30 s)"
      : "next start of the head";
  };
  const list = (prefix = ""): PropertyView[] => {
    const listed = new Map(store.list().map((v) => [v.key, v]));
    return OPTION_KEYS.filter((k) => listed.has(k) && OPTIONS[k].file.startsWith(prefix.toUpperCase())).map((k) => {
      const v = listed.get(k)!;
      return {
        name: OPTIONS[k].file,
        value: v.value,
        defaultValue: OPTIONS[k].default(),
        description: OPTIONS[k].help,
        changeable: v.editable,
        inForce: where(k, v.live),
      };
    });
  };
  /** The property after a change: the value it now has (running from the next start when not live). */
  const after = (k: keyof Settings, raw: string, when: "now" | "next start") => ({
    property: {
      ...list(OPTIONS[k].file).find((p) => p.name === OPTIONS[k].file)!,
      value: shown(k, OPTIONS[k].parse(raw, OPTIONS[k].file)),
    },
    inForce: where(k, when === "now"),
  });
  return {
    list,
    set: (name: string, value: string) => after(keyOf(name), value, store.set(keyOf(name), value)),
    reset: (name: string) => after(keyOf(name), OPTIONS[keyOf(name)].default(), store.reset(keyOf(name))),
  };
}
