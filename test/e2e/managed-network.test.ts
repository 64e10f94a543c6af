/**
 * VNET_MODE=MANAGED with the built euca and real packets: the head (CLC, Walrus, CC) in one
 * namespace, an NC in each of two node namespaces, all on a LAN namespace (the nodes reach
 * the head over VXLAN on it), and an outside client on the head's public side. Guests are
 * namespace stand-ins (the fake hypervisor runs the instance; a veth named as its tap,
 * with its MAC, goes on the node's segment bridge and asks for a lease). The API is
 * Debian's awscli, run inside the head's namespace — nothing here reaches the host's own.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageFile } from "../support/bundles";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { canNetns, clusterTopology, must, Namespaces, sh, standInGuest } from "../support/netns";
import { BUNDLE, readEucarc, startEuca, type EucaProcess } from "../support/process";

const AWS = "/usr/bin/aws";
const ECHO = join(__dirname, "../support/net-echo.mjs");
const ready = canNetns() || process.env.CI === "true";

describe.runIf(ready)("VNET_MODE MANAGED: the built euca on namespaces, with real packets", () => {
  const nss = new Namespaces("eum");
  const dir = tempDir("euca-managed-");
  const procs: Record<string, EucaProcess> = {};
  const before: Record<string, string> = {};
  let env: NodeJS.ProcessEnv = {};
  let ec2Url = "";
  const guests: Record<string, { id: string; ip: string; publicIp?: string; lease: string; node: string }> = {};

  const snapshot = (n: string) => must(`ip -n ${nss.name(n)} -br link show | sort; ip -n ${nss.name(n)} -br addr show | sort; ip netns exec ${nss.name(n)} nft list ruleset`);

  async function inNs(n: string, cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    return run("ip", ["netns", "exec", nss.name(n), cmd, ...args], { env: { PATH: process.env.PATH, HOME: dir, ...extraEnv }, timeoutMs: 60_000 });
  }

  async function ec2(...args: string[]): Promise<any> {
    const r = await inNs("head", AWS, ["--endpoint-url", ec2Url, "--output", "json", "ec2", ...args], env);
    if (r.status !== 0) throw new Error(`aws ec2 ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  }

  /** What a connection from namespace `from` to ip:port hears within 2 s ("" when refused or dropped). */
  const hear = async (from: string, ip: string, port: number) => (await inNs(from, "sh", ["-c", `sleep 0.3 | busybox nc -w 2 ${ip} ${port}`])).stdout.trim();
  /** An HTTP/1.0 request by nc (busybox-static's wget crashes here); the body. */
  async function http(from: string, method: string, url: string, headers: Record<string, string> = {}): Promise<string> {
    const u = new URL(url);
    const head = [`${method} ${u.pathname} HTTP/1.0`, `Host: ${u.hostname}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "", ""].join("\r\n");
    const r = await run("ip", ["netns", "exec", nss.name(from), "busybox", "nc", "-w", "3", u.hostname, u.port || "80"], { input: head, timeoutMs: 10_000 });
    return r.stdout.split("\r\n\r\n").slice(1).join("\r\n\r\n").trim();
  }

  function serve(n: string, name: string, ...ports: number[]): Promise<void> {
    const p = nss.spawn(n, "node", [ECHO, name, ...ports.map(String)]);
    return new Promise((resolve, reject) => {
      let seen = "";
      p.stdout!.on("data", (d) => (seen += d) && seen.split("listening").length > ports.length && resolve());
      p.on("exit", (c) => reject(new Error(`${name} exited ${c}`)));
    });
  }

  const startHead = () => startEuca(["run", "--role", "clc,walrus,cc", "--data-dir", join(dir, "head"), "--host", "192.168.50.1", "--vnet-mode", "MANAGED",
    "--vnet-pub-interface", "pub0", "--public-ips", "198.51.100.50-198.51.100.59", "--hypervisor", "fake", "--node-poll-seconds", "0.2"], {}, { netns: nss.name("head") });

  /** The node whose guest filter names the instance's tap. */
  const nodeOf = (id: string) => ["n1", "n2"].find((n) => sh(`ip netns exec ${nss.name(n)} nft list table bridge euca_node`).out.includes(`eu${id.slice(2)}`));

  async function launch(name: string, group: string): Promise<void> {
    const inst = (await ec2("run-instances", "--image-id", image, "--security-groups", group)).Instances[0];
    const id: string = inst.InstanceId;
    await until(async () => (await ec2("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].State.Name === "running");
    const node = nodeOf(id)!;
    expect(node, `no node filters ${id}`).toBeDefined();
    const mac = `d0:0d:${id.slice(2).match(/../g)!.join(":")}`;
    const g = standInGuest(nss, { name, node, tap: `eu${id.slice(2)}`, mac, bridge: segmentOf(inst.PrivateIpAddress), dir });
    guests[name] = { id, ip: inst.PrivateIpAddress, publicIp: inst.PublicIpAddress, lease: g.dhcp(), node };
    await serve(name, name, 22, 80);
  }

  /** The segment bridge of a private address: networks of 32 from 10.128.0.0, VLAN tags from 10 (the CC's defaults). */
  const segmentOf = (ip: string) => {
    const [, , c, d] = ip.split(".").map(Number);
    return `eucabr${Math.floor((c! * 256 + d!) / 32) + 10}`;
  };

  let image = "";

  beforeAll(async () => {
    clusterTopology(nss);
    for (const n of ["head", "n1", "n2", "out"]) before[n] = snapshot(n);
    procs.head = await startHead();
    ec2Url = procs.head.ec2Url;
    for (const [n, ip] of [["n1", "192.168.50.2"], ["n2", "192.168.50.3"]] as const) {
      procs[n] = await startEuca(["run", "--role", "nc", "--data-dir", join(dir, n), "--host", ip, "--vnet-mode", "MANAGED", "--hypervisor", "fake",
        "--walrus-url", new URL(ec2Url).origin], {}, { netns: nss.name(n) });
      const key = join(dir, `${n}.key`);
      await euca(["admin", "node", "register", n, "--url", `http://${ip}:8775`, "--out", key, "--data-dir", join(dir, "head")]);
      await euca(["admin", "component-key", "install", key, "--data-dir", join(dir, n)]);
    }
    const credDir = join(dir, "head", "credentials", "admin");
    const v = readEucarc(join(credDir, "eucarc"));
    env = { AWS_ACCESS_KEY_ID: v.EC2_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: v.EC2_SECRET_KEY, AWS_DEFAULT_REGION: "eucalyptus" };
    const eucaEnv = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)]));
    const imported = await inNs("head", process.execPath, [BUNDLE, "image", "import", imageFile("root.img", 300_000), "--name", "managed"], eucaEnv);
    image = /IMAGE\t(\S+)/.exec(imported.stdout)?.[1] ?? "";
    expect(image, imported.stderr).toMatch(/^emi-/);
    await ec2("create-security-group", "--group-name", "web", "--description", "web servers");
    await ec2("create-security-group", "--group-name", "db", "--description", "databases");
    await ec2("authorize-security-group-ingress", "--group-name", "web", "--protocol", "tcp", "--port", "22", "--cidr", "198.51.100.0/24");
    await serve("out", "outside", 8000);
    await launch("web1", "web");
    await launch("web2", "web");
    await launch("db1", "db");
  }, 120_000);

  afterAll(async () => {
    for (const p of Object.values(procs)) p.child.kill("SIGKILL");
    nss.cleanup();
  });

  async function euca(args: string[]) {
    const r = await run(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH }, timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  }

  it("the instances are spread over both nodes, each guest leased the address EC2 reports, with its host name", () => {
    expect(new Set([guests.web1!.node, guests.web2!.node])).toEqual(new Set(["n1", "n2"]));
    for (const g of Object.values(guests)) expect(g.lease).toContain(`ip=${g.ip} subnet=255.255.255.224`);
    expect(guests.web1!.lease).toContain(`hostname=euca-${guests.web1!.ip.replaceAll(".", "-")}`);
  });

  it("each guest reads its own instance id from 169.254.169.254, with IMDSv1 and with an IMDSv2 token", async () => {
    for (const [name, g] of Object.entries(guests)) expect(await http(name, "GET", "http://169.254.169.254/latest/meta-data/instance-id")).toBe(g.id);
    const token = await http("db1", "PUT", "http://169.254.169.254/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "60" });
    expect(token.length).toBeGreaterThan(20);
    expect(await http("db1", "GET", "http://169.254.169.254/latest/meta-data/local-ipv4", { "X-aws-ec2-metadata-token": token })).toBe(guests.db1!.ip);
  });

  it("tcp/22 is let in from the authorized CIDR at the launch public address, and not from another group's guest", async () => {
    expect(await hear("out", guests.web1!.publicIp!, 22)).toBe("web1:22 from 198.51.100.2");
    expect(await hear("db1", guests.web1!.ip, 22)).toBe("");
    expect(await hear("db1", guests.web2!.ip, 80)).toBe("");
  });

  it("a grant to a group is in force when the API call returns, across nodes; groups without one stay apart", async () => {
    await ec2("authorize-security-group-ingress", "--group-name", "web", "--protocol", "tcp", "--port", "80", "--source-group", "db");
    expect(await hear("db1", guests.web1!.ip, 80)).toBe(`web1:80 from ${guests.db1!.ip}`);
    expect(await hear("db1", guests.web2!.ip, 80)).toBe(`web2:80 from ${guests.db1!.ip}`);
    expect(await hear("web1", guests.db1!.ip, 22)).toBe("");
    expect(await hear("web1", guests.web2!.ip, 22)).toBe(""); // the group has no rule for itself
  });

  it("an elastic address reaches its instance from outside, and the outside sees its egress from that address", async () => {
    const { PublicIp: eip } = await ec2("allocate-address");
    await ec2("associate-address", "--instance-id", guests.web2!.id, "--public-ip", eip);
    expect(must(`ip -n ${nss.name("head")} addr show pub0`)).toContain(`${eip}/32`);
    expect(await hear("out", eip, 22)).toBe("web2:22 from 198.51.100.2");
    expect(await http("web2", "GET", "http://198.51.100.2:8000/whoami")).toBe(eip);
    expect(await http("db1", "GET", "http://198.51.100.2:8000/whoami")).toBe((await ec2("describe-instances", "--instance-ids", guests.db1!.id)).Reservations[0].Instances[0].PublicIpAddress);
    guests.web2!.publicIp = eip;
  });

  it("a revoke stops new connections when the call returns and leaves the established one", async () => {
    const held = nss.spawn("out", "busybox", ["nc", guests.web1!.publicIp!, "22"]);
    let heard = "";
    held.stdout!.on("data", (d) => (heard += d));
    await until(async () => heard.includes("web1:22"));
    await ec2("revoke-security-group-ingress", "--group-name", "web", "--protocol", "tcp", "--port", "22", "--cidr", "198.51.100.0/24");
    expect(await hear("out", guests.web1!.publicIp!, 22)).toBe("");
    held.stdin!.write("still here\n");
    await until(async () => heard.includes("still here"));
    held.kill();
  });

  it("a CC killed and restarted reconciles without dropping an established flow", async () => {
    const held = nss.spawn("db1", "busybox", ["nc", guests.web1!.ip, "80"]);
    let heard = "";
    held.stdout!.on("data", (d) => (heard += d));
    await until(async () => heard.includes("web1:80"));
    procs.head!.child.kill("SIGKILL");
    await procs.head!.exited;
    procs.head = await startHead();
    ec2Url = procs.head.ec2Url;
    held.stdin!.write("after restart\n");
    await until(async () => heard.includes("after restart"));
    held.kill();
    expect(await hear("db1", guests.web2!.ip, 80)).toBe(`web2:80 from ${guests.db1!.ip}`);
  });

  it("terminate removes every rule, link, lease and address; after shutdown each namespace is as it was", async () => {
    await ec2("terminate-instances", "--instance-ids", ...Object.values(guests).map((g) => g.id));
    // The fake hypervisor has no taps to remove: the stand-ins' go with them.
    for (const name of Object.keys(guests)) sh(`ip netns pids ${nss.name(name)} | xargs -r kill -9; ip netns del ${nss.name(name)}`);
    await until(async () => ["n1", "n2", "head"].every((n) => snapshot(n) === before[n])).catch(() => {
      for (const n of ["n1", "n2", "head"]) expect(snapshot(n), n).toBe(before[n]);
    });
    for (const p of Object.values(procs)) p.child.kill("SIGTERM");
    await Promise.all(Object.values(procs).map((p) => p.exited));
    for (const n of ["head", "n1", "n2", "out"]) expect(snapshot(n), n).toBe(before[n]);
    expect(sh(`ip netns pids ${nss.name("head")}`).out.trim()).toBe(""); // no dnsmasq left behind
  });
});

async function until(ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}
