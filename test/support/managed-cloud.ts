/**
 * The built euca in VNET_MODE MANAGED on the networking tests' namespaces (clusterTopology):
 * the head (CLC, Walrus, CC) in `head`, an NC in each node namespace given, registered with
 * the head. The API is Debian's awscli run inside the head's namespace, so nothing reaches
 * the host's own. Free of vitest, so bench/ can build the same cloud.
 */
import { join } from "node:path";
import { tempDir } from "./cloud";
import { run } from "./exec";
import { clusterTopology, httpFrom, lanTopology, must, Namespaces } from "./netns";
import { until } from "./until";
import { BUNDLE, eucarcEnv, readEucarc, startEuca, type EucaProcess } from "./process";
import { killGuestsUnder } from "./guest";

const AWS = "/usr/bin/aws";
export const NET_ECHO = join(__dirname, "net-echo.mjs");
const NODE_IPS: Record<string, string> = { n1: "192.168.50.2", n2: "192.168.50.3" };

export interface ManagedCloud {
  nss: Namespaces;
  dir: string;
  procs: Record<string, EucaProcess>;
  /** Each namespace's links, addresses and nftables before euca started. */
  before: Record<string, string>;
  snapshot(n: string): string;
  inNs(n: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof run>;
  /** The admin's eucarc as variables (HTTPS with the cloud CA). */
  adminEnv: Record<string, string>;
  ec2(...args: string[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** `euca image import` inside the head's namespace; the image id. */
  importImage(args: string[]): Promise<string>;
  restartHead(): Promise<void>;
  /** Stops one process (head, n1, n2) with `signal` and waits for it to exit. */
  kill(name: string, signal: NodeJS.Signals): Promise<void>;
  /** Starts a stopped process again as it was started. */
  start(name: string): Promise<void>;
  /** kill, then start. */
  restart(name: string, signal: NodeJS.Signals): Promise<void>;
  /** What a connection from namespace `from` to ip:port hears within 2 s ("" when refused or dropped). */
  hear(from: string, ip: string, port: number): Promise<string>;
  /** An HTTP request from inside a namespace (busybox-static's wget crashes here); the body ("" when none came). */
  http(from: string, method: string, url: string, headers?: Record<string, string>): Promise<string>;
  /** A net-echo server in a namespace, once it listens. */
  serve(n: string, name: string, ...ports: number[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `mode`: MANAGED (the default) or, on lanTopology's site LAN, SYSTEM or STATIC; `headArgs`
 * add to the head's command line (STATIC's VNET_MACMAP).
 */
export async function startManagedCloud(
  prefix: string,
  nodes: Array<{ name: "n1" | "n2"; hypervisor: "fake" | "qemu" }>,
  o: { mode?: "MANAGED" | "SYSTEM" | "STATIC"; headArgs?: string[]; pathFirst?: string } = {},
): Promise<ManagedCloud> {
  // `pathFirst`: a directory put before PATH for the head and the nodes (an argv watch's wrappers).
  const roleEnv = o.pathFirst ? { PATH: `${o.pathFirst}:${process.env.PATH}` } : {};
  const mode = o.mode ?? "MANAGED";
  const onLan = mode !== "MANAGED";
  const nss = new Namespaces(prefix);
  const dir = tempDir("euca-managed-");
  const procs: Record<string, EucaProcess> = {};
  const before: Record<string, string> = {};
  let env: NodeJS.ProcessEnv = {};
  const snapshot = (n: string) =>
    must(
      `ip -n ${nss.name(n)} -br link show | sort; ip -n ${nss.name(n)} -br addr show | sort; ip netns exec ${nss.name(n)} nft list ruleset`,
    );
  const inNs = (n: string, cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run("ip", ["netns", "exec", nss.name(n), cmd, ...args], {
      env: { PATH: process.env.PATH, HOME: dir, ...extra },
      timeoutMs: 300_000,
    });
  const network = onLan
    ? ["--vnet-priv-interface", "eth0"]
    : ["--vnet-pub-interface", "pub0", "--public-ips", "198.51.100.50-198.51.100.59"];
  const startHead = () =>
    startEuca(
      [
        "run",
        "--role",
        "clc,walrus,cc,sc",
        "--data-dir",
        join(dir, "head"),
        "--host",
        "192.168.50.1",
        "--vnet-mode",
        mode,
        ...network,
        ...(o.headArgs ?? []),
        "--hypervisor",
        "fake",
        "--node-poll-seconds",
        "0.2",
      ],
      // Its users get HTTPS (the default off loopback); its nodes, registered with keys, call it signed in plain HTTP.
      { ...roleEnv, EUCA_TLS: "auto" },
      { netns: nss.name("head") },
    );
  async function euca(args: string[]) {
    const r = await run(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH }, timeoutMs: 60_000 });
    if (r.status !== 0) throw new Error(`euca ${args.join(" ")}: ${r.stderr}`);
  }

  if (onLan) lanTopology(nss);
  else clusterTopology(nss);
  for (const n of ["head", "n1", "n2", onLan ? "site" : "out"]) before[n] = snapshot(n);
  procs.head = await startHead();
  const starts: Record<string, () => Promise<EucaProcess>> = { head: startHead };
  for (const { name, hypervisor } of nodes) {
    const ip = NODE_IPS[name]!;
    starts[name] = () =>
      startEuca(
        [
          "run",
          "--role",
          "nc",
          "--data-dir",
          join(dir, name),
          "--host",
          ip,
          "--vnet-mode",
          mode,
          "--hypervisor",
          hypervisor,
          "--qemu-accel",
          "tcg",
          "--walrus-url",
          `http://${new URL(procs.head!.ec2Url).host}`,
        ],
        roleEnv,
        { netns: nss.name(name) },
      );
    procs[name] = await starts[name]();
    const key = join(dir, `${name}.key`);
    await euca([
      "admin",
      "node",
      "register",
      name,
      "--url",
      `http://${ip}:8775`,
      "--out",
      key,
      "--data-dir",
      join(dir, "head"),
    ]);
    await euca(["admin", "component-key", "install", key, "--data-dir", join(dir, name)]);
  }
  const credDir = join(dir, "head", "credentials", "admin");
  const v = readEucarc(join(credDir, "eucarc"));
  env = {
    AWS_ACCESS_KEY_ID: v.EC2_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: v.EC2_SECRET_KEY,
    AWS_DEFAULT_REGION: "eucalyptus",
    AWS_PAGER: "",
    AWS_MAX_ATTEMPTS: "1",
    AWS_CA_BUNDLE: eucarcEnv(credDir).AWS_CA_BUNDLE!,
  };
  const eucaEnv = eucarcEnv(credDir);

  const c: ManagedCloud = {
    nss,
    dir,
    procs,
    before,
    snapshot,
    inNs,
    adminEnv: eucaEnv,
    async ec2(...args) {
      const r = await inNs(
        "head",
        AWS,
        ["--endpoint-url", procs.head!.ec2Url, "--output", "json", "ec2", ...args],
        env,
      );
      if (r.status !== 0) throw new Error(`aws ec2 ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim() ? JSON.parse(r.stdout) : {};
    },
    async importImage(args) {
      const r = await inNs("head", process.execPath, [BUNDLE, "image", "import", ...args], eucaEnv);
      const id = /IMAGE\t(\S+)/.exec(r.stdout)?.[1] ?? "";
      if (!id.startsWith("emi-")) throw new Error(`euca image import: ${r.stderr}`);
      return id;
    },
    restartHead: () => c.restart("head", "SIGKILL"),
    async kill(name, signal) {
      procs[name]!.child.kill(signal);
      await procs[name]!.exited;
    },
    async start(name) {
      procs[name] = await starts[name]!();
    },
    async restart(name, signal) {
      await c.kill(name, signal);
      await c.start(name);
    },
    hear: async (from, ip, port) =>
      (await inNs(from, "sh", ["-c", `sleep 0.3 | busybox nc -w 2 ${ip} ${port}`])).stdout.trim(),
    http: (from, method, url, headers = {}) => httpFrom(nss.name(from), method, url, headers),
    serve(n, name, ...ports) {
      const p = nss.spawn(n, "node", [NET_ECHO, name, ...ports.map(String)]);
      return new Promise((resolve, reject) => {
        let seen = "";
        p.stdout!.on("data", (d) => (seen += d) && seen.split("listening").length > ports.length && resolve());
        p.on("exit", (code) => reject(new Error(`${name} exited ${code}`)));
      });
    },
    async stop() {
      for (const p of Object.values(procs)) p.child.kill("SIGTERM");
      await Promise.all(Object.values(procs).map((p) => p.exited));
    },
  };
  return c;
}

/** Runs an instance of `image` and waits until its console says the test guest is ready; its id and console. */
export async function runGuest(
  c: ManagedCloud,
  image: string,
): Promise<{ instance: { InstanceId: string; PrivateIpAddress: string; PublicIpAddress: string }; console: string }> {
  const instance = (await c.ec2("run-instances", "--image-id", image, "--instance-type", "m1.small")).Instances[0];
  let text = "";
  await until(
    async () => {
      text = (await c.ec2("get-console-output", "--instance-id", instance.InstanceId)).Output ?? "";
      return text.includes("EUCA-GUEST-READY");
    },
    { timeoutMs: 180_000 },
  );
  return { instance, console: text };
}

/** What a test's cloud leaves when it ends: its processes, its guests (they outlive their NC by design), its namespaces. */
export function dropManagedCloud(c: ManagedCloud | undefined): void {
  for (const p of Object.values(c?.procs ?? {})) p.child.kill("SIGKILL");
  if (c) killGuestsUnder(c.dir);
  c?.nss.cleanup();
}

/** SYSTEM's site DHCP server (on lanTopology's site host): it knows nothing of euca. */
export function startSiteDhcp(c: ManagedCloud): void {
  c.nss.spawn("site", "dnsmasq", [
    "--keep-in-foreground",
    "--conf-file=/dev/null",
    "--port=0",
    "--interface=eth0",
    "--bind-interfaces",
    "--leasefile-ro",
    "--dhcp-range=192.168.50.100,192.168.50.150,255.255.255.0,1h",
    "--dhcp-option=option:router,192.168.50.1",
    `--pid-file=${c.dir}/site-dnsmasq.pid`,
  ]);
}
