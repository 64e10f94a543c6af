import { Command } from "commander";
import { openOfflineClc } from "./clc-offline";
import { dataDirLayout } from "../common/data-dir";
import { ensureAdminPassword } from "../roles/clc/identity/admin-password";
import { ensureWebCertificate } from "../roles/clc/web/web-certificate";
import { adminPasswordFile } from "../compose/web";
import { withSettings, settingsWithSourcesOf, type CliIo } from "./settings-flags";

/** `euca init`: creates the data directory, databases, the cloud CA and the admin user. Idempotent. */
export function initCommand(io: CliIo): Command {
  const cmd = new Command("init").description(
    "initialize the data directory: databases, cloud CA, admin user and credentials (idempotent; `run` does it on first start)",
  );
  withSettings(cmd, ["dataDir", "host", "ec2Port", "s3Port", "region", "logLevel"]);
  cmd.action(async () => {
    const { settings: s, given } = settingsWithSourcesOf(cmd, io);
    const clc = await openOfflineClc(s, given, io.err);
    try {
      io.out(`euca: data directory ${s.dataDir} is ready${clc.caCreated ? " (new cloud CA)" : ""}\n`);
      io.out(`euca: admin credentials ${clc.adminCreated ? "created" : "refreshed"} in ${clc.adminCredentials.dir}\n`);
      const webDir = dataDirLayout(s.dataDir).webDir;
      const cert = await ensureWebCertificate({
        dir: webDir,
        ca: clc.ca,
        host: s.host,
        s3Domain: s.s3Domain,
        certFile: "",
        keyFile: "",
        now: new Date(),
      });
      if (cert.made)
        io.out(
          `euca: web interface certificate made in ${webDir} (signed by the cloud CA; also for HTTPS EC2 and S3 with TLS on)\n`,
        );
      const file = adminPasswordFile(webDir);
      const password = await ensureAdminPassword(clc, file);
      if (password)
        io.out(
          `euca: the admin's first web password (shown this once; also in ${file}, 0600, until changed at the first login): ${password}\n`,
        );
    } finally {
      clc.close();
    }
  });
  return cmd;
}
