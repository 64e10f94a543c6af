/**
 * Component keys a host accepts for signed internal calls, in
 * <data-dir>/keys/component-keys.json (0600). A CC host holds the key the CLC
 * issued to it; an NC host the key its CC issued to it (docs/deployment.md).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../common/files";
import type { ComponentKey, ComponentKeyLookup } from "./types";

export interface IssuedKey extends ComponentKey {
  role: string;
  name: string;
}

export function readComponentKeys(path: string): IssuedKey[] {
  if (!existsSync(path)) return [];
  const parsed = JSON.parse(readFileSync(path, "utf8")) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${path}: expected a JSON array of component keys`);
  return parsed.filter((k): k is IssuedKey => typeof k?.id === "string" && typeof k?.secret === "string");
}

export function installComponentKey(path: string, key: IssuedKey): void {
  const keys = readComponentKeys(path).filter((k) => k.id !== key.id);
  writeFileAtomic(path, JSON.stringify([...keys, key], null, 2) + "\n", 0o600);
}

/** A lookup that re-reads the file when it changes, so an installed key works without a restart. */
export function componentKeyLookup(path: string): ComponentKeyLookup {
  let stamp = "";
  let keys: IssuedKey[] = [];
  return (id) => {
    const st = existsSync(path) ? statSync(path) : undefined;
    const now = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : "";
    if (now !== stamp) {
      keys = readComponentKeys(path);
      stamp = now;
    }
    return keys.find((k) => k.id === id)?.secret;
  };
}
