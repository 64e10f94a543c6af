/**
 * A host that joined follows the site's settings: every round it asks the head for them
 * (as the head's config file now says) and, where they differ from what this process runs
 * with, writes the head's values into this host's config file — so its next start agrees
 * — and says so once per change: in the log, and through `pending()` (the CC reports it
 * in `euca admin status`). Nothing restarts by itself, and a head that does not answer
 * changes nothing.
 */
import type { Logger } from "pino";
import { setConfigValue, unsetConfigValue } from "./config-file";
import { OPTIONS } from "./settings";
import { SITE_SETTINGS } from "./site-settings";

export interface SiteFollower {
  /** The site settings (config-file names) this process runs with other values than the head's. */
  pending(): string[];
  stop(): void;
}

export function followSiteSettings(o: {
  fetch: () => Promise<Record<string, string>>;
  /** What this process runs with (siteSettingsOf its settings). */
  running: Record<string, string>;
  configFile?: string;
  everyMs: number;
  log: Logger;
}): SiteFollower {
  let pending: string[] = [];
  let said = "";
  const round = async () => {
    let head: Record<string, string>;
    try {
      head = await o.fetch();
    } catch {
      return; // the head is silent: keep what is known (the revocation follower says so)
    }
    const names = [...new Set([...Object.keys(head), ...Object.keys(o.running)])].sort();
    const differ = names.filter((n) => (head[n] ?? "") !== (o.running[n] ?? ""));
    pending = differ;
    const signature = JSON.stringify(differ.map((n) => [n, head[n] ?? ""]));
    if (signature === said) return;
    said = signature;
    if (!differ.length) return;
    const written: string[] = [];
    if (o.configFile)
      for (const name of differ) {
        const key = SITE_SETTINGS.find((k) => OPTIONS[k].file === name);
        if (!key) continue; // a setting this version does not know
        try {
          if (head[name]) setConfigValue(o.configFile, key, head[name]);
          else unsetConfigValue(o.configFile, key);
          written.push(name);
        } catch (e) {
          o.log.warn({ setting: name, err: (e as Error).message }, "site settings: could not write the head's value");
        }
      }
    o.log.warn(
      {
        changed: Object.fromEntries(differ.map((n) => [n, { head: head[n] ?? "", here: o.running[n] ?? "" }])),
        ...(o.configFile ? { configFile: o.configFile, written } : {}),
      },
      o.configFile
        ? "site settings changed on the head: written to this host's config file, in force at its next start (restart its unit)"
        : "site settings changed on the head: this host was started without --config; give them at its next start",
    );
  };
  void round();
  const timer = setInterval(() => void round(), o.everyMs);
  timer.unref();
  return { pending: () => pending, stop: () => clearInterval(timer) };
}
