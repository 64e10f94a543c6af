/**
 * A four-host site in network namespaces (siteTopology), each role set a separate built
 * `euca` with its own data directory: the head (CLC, Walrus), the cluster host (CC, SC),
 * two nodes. The cluster host and the nodes are joined with `euca join <token>` alone —
 * the test copies no file between hosts — and started from the config file the join wrote:
 * no network flag is repeated on their command lines.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./cloud";
import { run } from "./exec";
import { Namespaces, siteTopology } from "./netns";
import { BUNDLE, eucarcEnv, startEuca, type EucaProcess } from "./process";
import { killGuestsUnder } from "./guest";

const AWS = "/usr/bin/aws";
export const SITE_IPS = { head: "192.168.50.1", cc: "192.168.50.4", n1: "192.168.50.2", n2: "192.168.50.3" };

export interface Site {
  nss: Namespaces;
  dir: string;
  procs: Record<string, EucaProcess>;
  /** The admin's eucarc as variables (for awscli, boto and euca image inside the head's namespace). */
  adminEnv: Record<string, string>;
  inNs(n: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof run>;
  /** `euca …` inside a namespace; its output, or it throws with its error. */
  euca(n: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string>;
  ec2(...args: string[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  importImage(args: string[]): Promise<string>;
  /** A join token printed by `euca admin cluster|node add` on the head. */
  token(args: string[]): Promise<string>;
  hear(from: string, ip: string, port: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startSite(
  prefix: string,
  nodes: Array<{ name: "n1" | "n2"; hypervisor: "fake" | "qemu" }>,
): Promise<Site> {
  const nss = new Namespaces(prefix);
  const dir = tempDir("euca-site-");
  const procs: Record<string, EucaProcess> = {};
  siteTopology(nss);
  const inNs = (n: string, cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run("ip", ["netns", "exec", nss.name(n), cmd, ...args], {
      env: { PATH: process.env.PATH, HOME: dir, ...extra },
      timeoutMs: 300_000,
    });
  const euca = async (n: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await inNs(n, process.execPath, [BUNDLE, ...args], env);
    if (r.status !== 0) throw new Error(`euca ${args.join(" ")} in ${n}: ${r.stderr}`);
    return r.stdout;
  };
  const token = async (args: string[]) => {
    const out = await euca("head", ["admin", ...args, "--data-dir", join(dir, "head")]);
    const t = /euca join (euca1\.\S+)/.exec(out)?.[1];
    if (!t) throw new Error(`no token in: ${out}`);
    return t;
  };
  const start = (n: string) => startEuca(["run", "--config", join(dir, n, "euca.conf")], {}, { netns: nss.name(n) });

  // The head runs from its config file, as its systemd unit would: the properties are kept there.
  mkdirSync(join(dir, "head"), { recursive: true });
  writeFileSync(
    join(dir, "head.conf"),
    [
      "ROLE=clc,walrus",
      `DATA_DIR=${join(dir, "head")}`,
      `HOST=${SITE_IPS.head}`,
      "VNET_MODE=MANAGED",
      "PUBLIC_IPS=198.51.100.50-198.51.100.59",
      "NODE_POLL_SECONDS=0.2",
      "SCHEDPOLICY=ROUNDROBIN",
      "",
    ].join("\n"),
  );
  // The head's users speak HTTPS, as by default on a site address (TLS=auto); its guests' metadata goes through the CC.
  procs.head = await startEuca(
    ["run", "--config", join(dir, "head.conf")],
    { EUCA_TLS: "auto" },
    { netns: nss.name("head") },
  );
  await euca("cc", [
    "join",
    await token(["cluster", "add", "cluster1"]),
    "--data-dir",
    join(dir, "cc"),
    "--host",
    SITE_IPS.cc,
    "--cc-port",
    "8774",
    "--vnet-pub-interface",
    "pub0",
  ]);
  procs.cc = await start("cc");
  for (const { name, hypervisor } of nodes) {
    await euca(name, [
      "join",
      await token(["node", "add", name, "--cluster", "cluster1"]),
      "--data-dir",
      join(dir, name),
      "--host",
      SITE_IPS[name],
      "--nc-port",
      "8775",
      "--hypervisor",
      hypervisor,
      "--qemu-accel",
      "tcg",
    ]);
    procs[name] = await start(name);
  }
  const adminEnv = eucarcEnv(join(dir, "head", "credentials", "admin"));
  const awsEnv = {
    AWS_ACCESS_KEY_ID: adminEnv.EC2_ACCESS_KEY!,
    AWS_SECRET_ACCESS_KEY: adminEnv.EC2_SECRET_KEY!,
    AWS_DEFAULT_REGION: "eucalyptus",
    AWS_PAGER: "",
    AWS_MAX_ATTEMPTS: "1",
    AWS_CA_BUNDLE: adminEnv.AWS_CA_BUNDLE!,
  };
  return {
    nss,
    dir,
    procs,
    adminEnv,
    inNs,
    euca,
    token,
    async ec2(...args) {
      const r = await inNs(
        "head",
        AWS,
        ["--endpoint-url", procs.head!.ec2Url, "--output", "json", "ec2", ...args],
        awsEnv,
      );
      if (r.status !== 0) throw new Error(`aws ec2 ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim() ? JSON.parse(r.stdout) : {};
    },
    async importImage(args) {
      const out = await euca("head", ["image", "import", ...args], adminEnv);
      const id = /IMAGE\t(\S+)/.exec(out)?.[1] ?? "";
      if (!id.startsWith("emi-")) throw new Error(`euca image import: ${out}`);
      return id;
    },
    hear: async (from, ip, port) =>
      (await inNs(from, "sh", ["-c", `sleep 0.3 | busybox nc -w 2 ${ip} ${port}`])).stdout.trim(),
    async stop() {
      for (const p of Object.values(procs)) p.child.kill("SIGTERM");
      await Promise.all(Object.values(procs).map((p) => p.exited));
    },
  };
}

/** What a site test leaves: its processes, its guests (they outlive their NC by design), its namespaces. */
export function dropSite(s: Site | undefined): void {
  for (const p of Object.values(s?.procs ?? {})) p.child.kill("SIGKILL");
  if (s) killGuestsUnder(s.dir);
  s?.nss.cleanup();
}
