/** The `euca` command line (commander). Usage errors exit 2; runtime errors exit 1. */
import { Command, CommanderError, Option } from "commander";
import { OPTIONS, OPTION_KEYS, ConfigError, type Settings } from "./options";
import { ClientEnvError } from "./image/client-env";
import { resolveSettingsWithSources } from "./config";
import { runCommand } from "./run";
import { initCommand } from "./init";
import { addAdminCommands } from "./admin";
import { imageCommand } from "./image/commands";

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
  cmd.addOption(new Option("--config <file>", "config file, KEY=value lines (docs/configuration.md) [env EUCA_CONFIG]"));
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
  return resolveSettingsWithSources({ flags: { ...rest, ...(role !== undefined ? { roles: role } : {}) }, env: io.env });
}

export function buildProgram(io: CliIo): Command {
  const program = new Command("euca")
    .description("euca: a private cloud with the EC2 and S3 APIs, after Eucalyptus")
    .version(__EUCA_VERSION__, "-V, --version", "print the version");
  program.addCommand(runCommand(io));
  program.addCommand(initCommand(io));
  addAdminCommands(program, io);
  program.addCommand(imageCommand(io));
  // Commands made with `new Command` do not inherit these: set them on the whole tree.
  const configure = (cmd: Command) => {
    cmd.exitOverride()
      .showHelpAfterError(true) // the full help lists every valid command and flag
      .configureOutput({ writeOut: io.out, writeErr: io.err });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Parses and runs; resolves to the process exit code (a `run` keeps going until signalled). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof ConfigError || e instanceof ClientEnvError) {
      io.err(`euca: ${e.message}\n`);
      return 2;
    }
    io.err(`euca: ${(e as Error).message}\n`);
    return 1;
  }
}
