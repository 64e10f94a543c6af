/** What every command shares: its input and output, and the settings flags (so commands need not import the program). */
import { Command, Option } from "commander";
import { OPTIONS, OPTION_KEYS, type Settings } from "../config/settings";
import { resolveSettingsWithSources } from "../config/resolve";

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

/** Adds the settings flags (all of them, or those named) to a command. */
export function withSettings(cmd: Command, keys: ReadonlyArray<keyof Settings> = OPTION_KEYS): Command {
  for (const key of keys) {
    const def = OPTIONS[key];
    cmd.addOption(new Option(def.flag, `${def.help} [env EUCA_${def.file}] (default: ${def.default()})`));
  }
  cmd.addOption(
    new Option("--config <file>", "config file, KEY=value lines (docs/configuration.md) [env EUCA_CONFIG]"),
  );
  return cmd;
}

/** Settings from a command's parsed flags, the environment and the config file. */
export function settingsOf(cmd: Command, io: CliIo): Settings {
  return settingsWithSourcesOf(cmd, io).settings;
}

/** Settings, and which were given rather than defaulted. */
export function settingsWithSourcesOf(cmd: Command, io: CliIo) {
  const o = cmd.opts<Record<string, string>>();
  const { role, ...rest } = o;
  return resolveSettingsWithSources({
    flags: { ...rest, ...(role !== undefined ? { roles: role } : {}) },
    env: io.env,
  });
}
