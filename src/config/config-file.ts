/**
 * Changing one setting in the config file (the admin's settings page): the value is
 * checked as at start, the `KEY=value` line replaced (or added), the rest of the file
 * kept as it was, written atomically with the file's own mode.
 */
import { readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../common/files";
import { parseConfigFile } from "./resolve";
import { OPTIONS, type Settings } from "./settings";

const quote = (v: string) => (/^[A-Za-z0-9_./:@,=+-]*$/.test(v) ? v : `"${v.replace(/["\\$`]/g, "\\$&")}"`);

export function setConfigValue(path: string, key: keyof Settings, value: string): void {
  const def = OPTIONS[key];
  def.parse(value, `${path} ${def.file}`); // throws ConfigError with the reason
  if (/[\r\n"]/.test(value)) throw new Error(`${def.file}: a value cannot hold a newline or a double quote`);
  const text = readFileSync(path, "utf8");
  parseConfigFile(text, path); // refuse to rewrite a file that would not load
  const line = `${def.file}=${quote(value)}`;
  const lines = text.split(/\r?\n/);
  const at = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${def.file}\\s*=`).test(l));
  if (at >= 0) lines[at] = line;
  else lines.splice(lines.at(-1) === "" ? lines.length - 1 : lines.length, 0, line);
  writeFileAtomic(path, lines.join("\n"), statSync(path).mode & 0o777);
}

/** Takes a setting's line out of the config file (its default applies again); the rest kept as it was. */
export function unsetConfigValue(path: string, key: keyof Settings): void {
  const def = OPTIONS[key];
  const text = readFileSync(path, "utf8");
  const lines = text.split(/\r?\n/).filter((l) => !new RegExp(`^\\s*(export\\s+)?${def.file}\\s*=`).test(l));
  writeFileAtomic(path, lines.join("\n"), statSync(path).mode & 0o777);
}
