/**
 * VNET_MODE=MANAGED with the built euca and real packets: the head (CLC, Walrus, CC) in one
 * namespace, an NC in each of two node namespaces, all on a LAN namespace (the nodes reach
 * the head over VXLAN on it), and an outside client on the head's public side. Guests are
 * namespace stand-ins (the fake hypervisor runs the instance; a veth named as its tap,
 * with its MAC, goes on the node's segment bridge and asks for a lease). The API is
 * Debian's awscli, run inside the head's namespace — nothing here reaches the host's own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageFile } from "../support/bundles";
import { startManagedCloud, type ManagedCloud } from "../support/managed-cloud";
import { until } from "../support/until";
import { canNetns, must, sh, standInGuest } from "../support/netns";
import { join } from "node:path";
import { run } from "../support/exec";
import { BUNDLE } from "../support/process";

const ready = canNetns() || process.env.CI === "true";

describe.runIf(ready)("VNET_MODE MANAGED: the built euca on namespaces, with real packets", () => {
  let c: ManagedCloud;
  let image = "";
  const guests: Record<string, { id: string; ip: string; publicIp?: string; lease: string; node: string }> = {};
  const ec2 = (...args: string[]) => c.ec2(...args);
  const hear = (from: string, ip: string, port: number) => c.hear(from, ip, port);
  const http = (from: string, method: string, url: string, headers?: Record<string, string>) =>
    c.http(from, method, url, headers);

  /** The node whose guest filter names the instance's tap. */
  const nodeOf = (id: string) =>
    ["n1", "n2"].find((n) =>
      sh(`ip netns exec ${c.nss.name(n)} nft list table bridge euca_node`).out.includes(`eu${id.slice(2)}`),
    );

  /** The segment bridge of a private address: networks of 32 from 10.128.0.0, VLAN tags from 10 (the CC's defaults). */
  const segmentOf = (ip: string) => {
    const [, , x, y] = ip.split(".").map(Number);
    return `eucabr${Math.floor((x! * 256 + y!) / 32) + 10}`;
  };

  async function launch(name: string, group: string): Promise<void> {
    const inst = (await ec2("run-instances", "--image-id", image, "--security-groups", group)).Instances[0];
    const id: string = inst.InstanceId;
    await until(
      async () =>
        (await ec2("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].State.Name === "running",
    );
    const node = nodeOf(id)!;
    expect(node, `no node filters ${id}`).toBeDefined();
    const mac = `d0:0d:${id.slice(2).match(/../g)!.join(":")}`;
    const g = standInGuest(c.nss, {
      name,
      node,
      tap: `eu${id.slice(2)}`,
      mac,
      bridge: segmentOf(inst.PrivateIpAddress),
      dir: c.dir,
    });
    guests[name] = { id, ip: inst.PrivateIpAddress, publicIp: inst.PublicIpAddress, lease: g.dhcp(), node };
    await c.serve(name, name, 22, 80);
  }

  beforeAll(async () => {
    c = await startManagedCloud("eum", [
      { name: "n1", hypervisor: "fake" },
      { name: "n2", hypervisor: "fake" },
    ]);
    image = await c.importImage([imageFile("root.img", 300_000), "--name", "managed"]);
    await ec2("create-security-group", "--group-name", "web", "--description", "web servers");
    await ec2("create-security-group", "--group-name", "db", "--description", "databases");
    await ec2(
      "authorize-security-group-ingress",
      "--group-name",
      "web",
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--cidr",
      "198.51.100.0/24",
    );
    await c.serve("out", "outside", 8000);
    await launch("web1", "web");
    await launch("web2", "web");
    await launch("db1", "db");
  }, 120_000);

  afterAll(async () => {
    for (const p of Object.values(c?.procs ?? {})) p.child.kill("SIGKILL");
    c?.nss.cleanup();
  });

  it("the instances are spread over both nodes, each guest leased the address EC2 reports, with its host name", () => {
    expect(new Set([guests.web1!.node, guests.web2!.node])).toEqual(new Set(["n1", "n2"]));
    for (const g of Object.values(guests)) expect(g.lease).toContain(`ip=${g.ip} subnet=255.255.255.224`);
    expect(guests.web1!.lease).toContain(`hostname=euca-${guests.web1!.ip.replaceAll(".", "-")}`);
  });

  it("each guest reads its own instance id from 169.254.169.254, with IMDSv1 and with an IMDSv2 token", async () => {
    for (const [name, g] of Object.entries(guests))
      expect(await http(name, "GET", "http://169.254.169.254/latest/meta-data/instance-id")).toBe(g.id);
    const token = await http("db1", "PUT", "http://169.254.169.254/latest/api/token", {
      "X-aws-ec2-metadata-token-ttl-seconds": "60",
    });
    expect(token.length).toBeGreaterThan(20);
    expect(
      await http("db1", "GET", "http://169.254.169.254/latest/meta-data/local-ipv4", {
        "X-aws-ec2-metadata-token": token,
      }),
    ).toBe(guests.db1!.ip);
  });

  it("tcp/22 is let in from the authorized CIDR at the launch public address, and not from another group's guest", async () => {
    expect(await hear("out", guests.web1!.publicIp!, 22)).toBe("web1:22 from 198.51.100.2");
    expect(await hear("db1", guests.web1!.ip, 22)).toBe("");
    expect(await hear("db1", guests.web2!.ip, 80)).toBe("");
  });

  it("a grant to a group is in force when the API call returns, across nodes; groups without one stay apart", async () => {
    await ec2(
      "authorize-security-group-ingress",
      "--group-name",
      "web",
      "--protocol",
      "tcp",
      "--port",
      "80",
      "--source-group",
      "db",
    );
    expect(await hear("db1", guests.web1!.ip, 80)).toBe(`web1:80 from ${guests.db1!.ip}`);
    expect(await hear("db1", guests.web2!.ip, 80)).toBe(`web2:80 from ${guests.db1!.ip}`);
    expect(await hear("web1", guests.db1!.ip, 22)).toBe("");
    expect(await hear("web1", guests.web2!.ip, 22)).toBe(""); // the group has no rule for itself
  });

  it("an elastic address reaches its instance from outside, and the outside sees its egress from that address", async () => {
    const { PublicIp: eip } = await ec2("allocate-address");
    await ec2("associate-address", "--instance-id", guests.web2!.id, "--public-ip", eip);
    expect(must(`ip -n ${c.nss.name("head")} addr show pub0`)).toContain(`${eip}/32`);
    expect(await hear("out", eip, 22)).toBe("web2:22 from 198.51.100.2");
    expect(await http("web2", "GET", "http://198.51.100.2:8000/whoami")).toBe(eip);
    expect(await http("db1", "GET", "http://198.51.100.2:8000/whoami")).toBe(
      (await ec2("describe-instances", "--instance-ids", guests.db1!.id)).Reservations[0].Instances[0].PublicIpAddress,
    );
    guests.web2!.publicIp = eip;
  });

  it("a revoke stops new connections when the call returns and leaves the established one", async () => {
    const held = c.nss.spawn("out", "busybox", ["nc", guests.web1!.publicIp!, "22"]);
    let heard = "";
    held.stdout!.on("data", (d) => (heard += d));
    await until(async () => heard.includes("web1:22"));
    await ec2(
      "revoke-security-group-ingress",
      "--group-name",
      "web",
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--cidr",
      "198.51.100.0/24",
    );
    expect(await hear("out", guests.web1!.publicIp!, 22)).toBe("");
    held.stdin!.write("still here\n");
    await until(async () => heard.includes("still here"));
    held.kill();
  });

  it("`euca admin network` shows the segments, the instances with their addresses, the groups and what each node took — from the CC's database and from the running CC", async () => {
    const r = await run(
      process.execPath,
      [
        BUNDLE,
        "admin",
        "network",
        "--data-dir",
        join(c.dir, "head"),
        "--vnet-mode",
        "MANAGED",
        "--host",
        "192.168.50.1",
        "--vnet-pub-interface",
        "pub0",
      ],
      { env: { PATH: process.env.PATH }, timeoutMs: 30_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("mode MANAGED  private 10.128.0.0/16  gateway 192.168.50.1 (public interface pub0)");
    expect(c.procs.head!.stdout()).toContain(
      "euca: network MANAGED: guests in 10.128.0.0/16, this host their gateway at 192.168.50.1, public addresses on pub0",
    );
    expect(r.stdout).toMatch(new RegExp(`${segmentOf(guests.web1!.ip)}\\s+\\d+\\s+\\S+\\s+\\S+\\s+2`));
    for (const g of Object.values(guests))
      expect(r.stdout).toMatch(new RegExp(`${g.id}\\s+${g.node}\\s+${g.ip.replaceAll(".", "\\.")}`));
    expect(r.stdout).toMatch(/^n1\s+192\.168\.50\.2\s+\d+\s+[0-9a-f]{12}\s/m);
    expect(r.stdout).toMatch(/^n2\s+192\.168\.50\.3\s+\d+\s+[0-9a-f]{12}\s/m);
    // With the admin's eucarc, the running CC's own view through the CLC (HTTPS): the same instances and nodes.
    const remote = await c.inNs("head", process.execPath, [BUNDLE, "admin", "network"], c.adminEnv);
    expect(remote.status, remote.stderr).toBe(0);
    const rows = (out: string) => out.split("\n").filter((l) => /^(i-|n1 |n2 |mode )/.test(l));
    expect(rows(remote.stdout)).toEqual(rows(r.stdout));
    expect(rows(remote.stdout)).toHaveLength(2 + Object.keys(guests).length + 1);
  });

  it("a CC killed and restarted reconciles without dropping an established flow", async () => {
    const held = c.nss.spawn("db1", "busybox", ["nc", guests.web1!.ip, "80"]);
    let heard = "";
    held.stdout!.on("data", (d) => (heard += d));
    await until(async () => heard.includes("web1:80"));
    await c.restartHead();
    held.stdin!.write("after restart\n");
    await until(async () => heard.includes("after restart"));
    held.kill();
    expect(await hear("db1", guests.web2!.ip, 80)).toBe(`web2:80 from ${guests.db1!.ip}`);
  });

  it("terminate removes every rule, link, lease and address; after shutdown each namespace is as it was", async () => {
    await ec2("terminate-instances", "--instance-ids", ...Object.values(guests).map((g) => g.id));
    // The fake hypervisor has no taps to remove: the stand-ins' go with them.
    for (const name of Object.keys(guests))
      sh(`ip netns pids ${c.nss.name(name)} | xargs -r kill -9; ip netns del ${c.nss.name(name)}`);
    await until(() => ["n1", "n2", "head"].every((n) => c.snapshot(n) === c.before[n])).catch(() => {
      for (const n of ["n1", "n2", "head"]) expect(c.snapshot(n), n).toBe(c.before[n]);
    });
    await c.stop();
    for (const n of ["head", "n1", "n2", "out"]) expect(c.snapshot(n), n).toBe(c.before[n]);
    expect(sh(`ip netns pids ${c.nss.name("head")}`).out.trim()).toBe(""); // no dnsmasq left behind
  });
});
