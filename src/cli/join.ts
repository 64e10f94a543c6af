/**
 * `euca join <token>`: this host joins the cloud whose CLC printed the token. It checks
 * the cloud is the one the token pins, makes its key here and receives its certificate,
 * the CA's revocation list and the site's settings, and writes its config file (0600):
 * then `euca run --config FILE` starts its roles, with no flag repeated from the head.
 */
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { Command } from "commander";
import { dataDirLayout } from "../common/data-dir";
import { writeFileAtomic } from "../common/files";
import { OPTIONS, type Settings } from "../config/settings";
import { shown } from "../config/settings-store";
import { decodeJoinToken } from "../rpc/join-token";
import { requestJoin } from "../rpc/join-client";
import { writeHostTls } from "../rpc/host-tls";
import { settingsWithSourcesOf, withSettings, type CliIo } from "./settings-flags";
import { formatResults, runDoctor } from "./doctor/command";

/** What a host says of itself at a join (its address, ports, hypervisor, interfaces, disks); the rest comes from the cloud. */
export const HOST_SETTINGS: ReadonlyArray<keyof Settings> = [
  "dataDir",
  "host",
  "ec2Port",
  "ccPort",
  "ncPort",
  "logLevel",
  "hypervisor",
  "qemuAccel",
  "ncCacheMb",
  "maxMem",
  "maxCores",
  "maxDisk",
  "vnetPubInterface",
  "vnetPrivInterface",
  "vnetLocalIp",
  "vnetBridge",
  "scBackend",
  "scVolumeFormat",
  "scVolumesDir",
  "scNbdPorts",
  "scExport",
  "scIscsiPort",
];

const quote = (v: string) => (/^[A-Za-z0-9_./:@,=+-]*$/.test(v) ? v : `"${v.replace(/["\\$`]/g, "\\$&")}"`);

export function joinCommand(io: CliIo): Command {
  const cmd = withSettings(new Command("join"), HOST_SETTINGS)
    .description(
      "join this host to a cloud with the one-time token `euca admin cluster add` or `euca admin node add` printed on the CLC host: checks the cloud's CA against the token, makes this host's key (it never leaves the host), receives its certificate and the site's settings, and writes its config file",
    )
    .argument("<token>", "the euca1.… token")
    .option("--write-config <file>", "where to write this host's config file (default: <data-dir>/euca.conf)")
    .option("--skip-checks", "join even when this host fails a check of `euca doctor`");
  cmd.action(async (text: string) => {
    const { settings: s, given } = settingsWithSourcesOf(cmd, io);
    const token = decodeJoinToken(text);
    if (!given.has("host") || s.host === "0.0.0.0" || s.host === "::")
      throw new Error("give --host: the address the cloud's other hosts reach this one at (not a wildcard)");
    const port = token.kind === "cluster" ? s.ccPort : s.ncPort;
    // This host's own checks first, for the roles it joins as: a FAIL stops the join before the token is spent.
    const roles = token.kind === "cluster" ? (["cc", "sc"] as const) : (["nc"] as const);
    const checks = (await runDoctor({ ...s, roles: [...roles] })).filter(
      (r) => r.id !== "cert.host" && r.status !== "PASS",
    );
    if (checks.length) io.out(formatResults(checks));
    if (checks.some((r) => r.status === "FAIL") && !cmd.opts<{ skipChecks?: boolean }>().skipChecks)
      throw new Error("this host fails the checks above: fix them, or join anyway with --skip-checks");
    if (port === 0)
      throw new Error(`give --${token.kind === "cluster" ? "cc" : "nc"}-port: other hosts need a fixed port`);
    io.out(
      `euca: joining the cloud at ${token.url} as a ${token.kind === "cluster" ? "cluster host (CC, SC)" : "node"}…\n`,
    );
    const { keyPem, grant } = await requestJoin(token, { address: s.host, port, name: hostname(), now: new Date() });
    const layout = dataDirLayout(s.dataDir);
    mkdirSync(layout.keysDir, { recursive: true, mode: 0o700 });
    writeHostTls(layout, { keyPem, certPem: grant.certPem, caPem: grant.caPem });
    writeFileAtomic(layout.revocations, grant.crlPem, 0o600);
    const file = cmd.opts<{ writeConfig?: string }>().writeConfig ?? join(s.dataDir, "euca.conf");
    const lines = [
      `# Written by \`euca join\` on ${new Date().toISOString()}: ${grant.kind === "cluster" ? `the CC and SC of cluster ${grant.cluster}` : `node ${grant.node} of cluster ${grant.cluster}`},`,
      `# of the cloud at ${grant.url}. Site settings (below the roles) come from the cloud: change them there.`,
      `ROLE=${grant.roles.join(",")}`,
      `CLUSTER_NAME=${quote(grant.cluster)}`,
      `WALRUS_URL=${quote(grant.url)}`,
      `CLC_URL=${quote(grant.url)}`,
      `DATA_DIR=${quote(s.dataDir)}`,
      `HOST=${quote(s.host)}`,
      ...HOST_SETTINGS.filter((k) => given.has(k) && k !== "dataDir" && k !== "host").map(
        (k) => `${OPTIONS[k].file}=${quote(shown(k, s[k]))}`,
      ),
      "# The site's settings:",
      ...Object.entries(grant.settings).map(([k, v]) => `${k}=${quote(v)}`),
      "",
    ];
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, lines.join("\n"), 0o600);
    io.out(
      `euca: joined cluster ${grant.cluster}${grant.node ? ` as node ${grant.node}` : ""}; certificate in ${layout.hostCert}, config in ${file}\n` +
        `euca: start it with: euca run --config ${file}\n`,
    );
  });
  return cmd;
}
