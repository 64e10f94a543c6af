/**
 * The site's settings: those every host of the cloud must agree on (the network mode and
 * its plan, the public pool, the region, the node thresholds — OPTIONS entries marked
 * `site`). The CLC hands them to each host that joins, so no host repeats them by hand.
 */
import { OPTION_KEYS, OPTIONS, type Settings } from "./settings";
import { shown } from "./settings-store";

export const SITE_SETTINGS = OPTION_KEYS.filter((k) => OPTIONS[k].site);

/** The site's settings as config-file lines would give them (KEY → value); empty values left out. */
export function siteSettingsOf(s: Settings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of SITE_SETTINGS) {
    const v = shown(k, s[k]);
    if (v !== "") out[OPTIONS[k].file] = v;
  }
  return out;
}
