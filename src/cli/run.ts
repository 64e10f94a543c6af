import { notifySystemd } from "../common/sd-notify";
import { formatResults, runDoctor } from "./doctor/command";
import { Command } from "commander";
import { createLogger } from "../common/logger";
import { startCloud } from "../cloud";
import { withSettings, settingsWithSourcesOf, type CliIo } from "./settings-flags";
import { addressingOf, isLan, isManaged, privateSubnet } from "../config/network";
import { privilegedPortHint } from "../hypervisor/qemu/hostfwd";

/**
 * The laptop cloud's guests are reached at the addresses EC2 reports, through the ports
 * their security groups open (the default group is closed): what to type, once.
 */
function reachHint(): string {
  const lines = [
    "euca: to reach an instance from this host, open its port, then connect to the address describe-instances shows:",
    "euca:   aws --endpoint-url $EC2_URL ec2 authorize-security-group-ingress --group-name default --protocol tcp --port 22 --cidr 127.0.0.0/8",
    "euca:   ssh -i KEY.pem root@PRIVATE-OR-PUBLIC-IP",
  ];
  const hint = privilegedPortHint(22);
  if (hint) lines.push(`euca: (${hint})`);
  return lines.map((l) => `${l}\n`).join("");
}

/** `euca run`: starts the given roles and serves until SIGTERM/SIGINT. */
export function runCommand(io: CliIo): Command {
  const cmd = new Command("run").description(
    "run the cloud's roles in this process (`--role all` is a complete laptop cloud)",
  );
  withSettings(cmd);
  cmd.action(async () => {
    const { settings: s, given } = settingsWithSourcesOf(cmd, io);
    const log = createLogger(s.logLevel);
    const configFile = cmd.opts<{ config?: string }>().config ?? io.env.EUCA_CONFIG;
    let cloud: Awaited<ReturnType<typeof startCloud>>;
    try {
      cloud = await startCloud({ settings: s, log, configFile, given });
    } catch (e) {
      // Say which of the host's checks fail, with their fixes, beside the error itself.
      const failing = (await runDoctor(s).catch(() => [])).filter((r) => r.status === "FAIL");
      if (failing.length) io.err(`euca: this host fails these checks (euca doctor):\n${formatResults(failing)}`);
      throw e;
    }
    const e = cloud.endpoints;
    if (cloud.adminCredentials) {
      io.out(`euca: admin credentials are in ${cloud.adminCredentials.dir} (eucarc, certificates, aws-credentials)\n`);
      io.out(
        `euca: try: source ${cloud.adminCredentials.eucarc} && aws --endpoint-url $EC2_URL ec2 describe-availability-zones\n`,
      );
    }
    if (cloud.web) {
      io.out(
        `euca: web interface at ${cloud.web.url} (its certificate is signed by the cloud CA, ${cloud.layout.cloudCert})\n`,
      );
      if (cloud.web.adminPassword) {
        io.out(
          `euca: the admin's first web password (shown this once; also in ${cloud.web.passwordFile}, 0600, until you change it at the first login): ${cloud.web.adminPassword}\n`,
        );
      }
    }
    const internal = Object.entries(cloud.internal)
      .map(([r, u]) => ` ${r}=${u}`)
      .join("");
    if (s.roles.includes("clc") && cloud.hypervisor?.startsWith("qemu") && privateSubnet(s).startsWith("127."))
      io.out(reachHint());
    if (s.roles.includes("cc") && isManaged(s)) {
      io.out(
        `euca: network ${s.vnetMode}: guests in ${privateSubnet(s)}, this host their gateway at ${s.vnetLocalIp || s.host}, public addresses on ${s.vnetPubInterface}; see: euca admin network --vnet-mode ${s.vnetMode}\n`,
      );
    } else if (s.roles.includes("cc") && isLan(s)) {
      io.out(
        `euca: network ${s.vnetMode}: guests on the site's LAN (bridge ${s.vnetBridge} on each node), addressed by ${addressingOf(s)}; see: euca admin network --vnet-mode ${s.vnetMode}\n`,
      );
    }
    // Only what this process serves: EC2 where the CLC runs, S3 where Walrus does.
    const served = `${s.roles.includes("clc") ? ` ec2=${e.ec2Url}` : ""}${s.roles.includes("walrus") ? ` s3=${e.s3Url}` : ""}`;
    // Last: scripts (and the tests) wait for this line.
    io.out(
      `euca ready: roles=${s.roles.join(",")}${served} heartbeat=${e.heartbeatUrl}${internal}${cloud.hypervisor ? ` hypervisor=${cloud.hypervisor.replace(" ", "")}` : ""} data=${s.dataDir}\n`,
    );
    await notifySystemd({ ready: true, status: `serving: roles ${s.roles.join(",")}` });
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        log.info({ signal }, "shutting down");
        void notifySystemd({ stopping: true, status: `stopping (${signal})` });
        cloud.stop().then(resolve, resolve);
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
    });
  });
  return cmd;
}
