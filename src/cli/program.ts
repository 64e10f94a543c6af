/** The `euca` command line (commander). Usage errors exit 2; runtime errors exit 1. */
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config/settings";
import { ClientEnvError } from "./image/client-env";
import type { CliIo } from "./settings-flags";
import { runCommand } from "./run";
import { initCommand } from "./init";
import { joinCommand } from "./join";
import { doctorCommand, DoctorFailed } from "./doctor/command";
import { addAdminCommands } from "./admin";
import { imageCommand } from "./image/commands";

export type { CliIo } from "./settings-flags";

export function buildProgram(io: CliIo): Command {
  const program = new Command("euca")
    .description("euca: a private cloud with the EC2 and S3 APIs, after Eucalyptus")
    .version(__EUCA_VERSION__, "-V, --version", "print the version");
  program.addCommand(runCommand(io));
  program.addCommand(initCommand(io));
  program.addCommand(joinCommand(io));
  program.addCommand(doctorCommand(io));
  addAdminCommands(program, io);
  program.addCommand(imageCommand(io));
  // Commands made with `new Command` do not inherit these: set them on the whole tree.
  const configure = (cmd: Command) => {
    cmd
      .exitOverride()
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
    if (e instanceof DoctorFailed) return 1;
    if (e instanceof ConfigError || e instanceof ClientEnvError) {
      io.err(`euca: ${e.message}\n`);
      return 2;
    }
    io.err(`euca: ${(e as Error).message}\n`);
    return 1;
  }
}
