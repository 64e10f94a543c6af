import { Command } from "commander";
import { createLogger } from "../common/logger";
import { startCloud } from "../cloud";
import { withSettings, settingsOf, type CliIo } from "./settings-flags";

/** `euca run`: starts the given roles and serves until SIGTERM/SIGINT. */
export function runCommand(io: CliIo): Command {
  const cmd = new Command("run").description("run the cloud's roles in this process (`--role all` is a complete laptop cloud)");
  withSettings(cmd);
  cmd.action(async () => {
    const s = settingsOf(cmd, io);
    const log = createLogger(s.logLevel);
    const cloud = await startCloud({ settings: s, log });
    const e = cloud.endpoints;
    if (cloud.adminCredentials) {
      io.out(`euca: admin credentials are in ${cloud.adminCredentials.dir} (eucarc, certificates, aws-credentials)\n`);
      io.out(`euca: try: source ${cloud.adminCredentials.eucarc} && aws --endpoint-url $EC2_URL ec2 describe-availability-zones\n`);
    }
    const internal = Object.entries(cloud.internal).map(([r, u]) => ` ${r}=${u}`).join("");
    io.out(`euca ready: roles=${s.roles.join(",")} ec2=${e.ec2Url} s3=${e.s3Url} heartbeat=${e.heartbeatUrl}${internal}${cloud.hypervisor ? ` hypervisor=${cloud.hypervisor.replace(" ", "")}` : ""} data=${s.dataDir}\n`);
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        log.info({ signal }, "shutting down");
        cloud.stop().then(resolve, resolve);
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
    });
  });
  return cmd;
}
