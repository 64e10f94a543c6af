/**
 * VNET_MODE SYSTEM and STATIC with the built euca and real packets: guests on the site's
 * LAN (each node's br0, holding its eth0), the head (CLC, Walrus, CC) and a site host on
 * the same LAN. SYSTEM: the site's own dnsmasq addresses guests and the node learns what
 * it gave; STATIC: the CC answers from VNET_MACMAP. In both, groups are enforced on the
 * guest's node and each node answers its guests' 169.254.169.254 (asking the CLC, signed).
 * Guests are namespace stand-ins on br0 (the fake hypervisor runs the instance).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageFile } from "../support/bundles";
import { startManagedCloud, startSiteDhcp, type ManagedCloud } from "../support/managed-cloud";
import { until } from "../support/until";
import { canNetns, sh, standInGuest } from "../support/netns";
import { join } from "node:path";
import { run } from "../support/exec";
import { BUNDLE } from "../support/process";

const ready = canNetns() || process.env.CI === "true";
const MACMAP = [
  "d0:0d:aa:00:00:01=192.168.50.201",
  "d0:0d:aa:00:00:02=192.168.50.202",
  "d0:0d:aa:00:00:03=192.168.50.203",
];

for (const mode of ["SYSTEM", "STATIC"] as const) {
  describe.runIf(ready)(`VNET_MODE ${mode}: guests on the site's LAN, with real packets`, () => {
    let c: ManagedCloud;
    let image = "";
    const guests: Record<string, { id: string; ip: string; lease: string; node: string }> = {};
    const ec2 = (...args: string[]) => c.ec2(...args);
    const hear = (from: string, ip: string, port: number) => c.hear(from, ip, port);
    const describeOne = async (id: string) =>
      (await ec2("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0];

    /** The node whose guest filter has the instance's tap, and the MAC it pins there. */
    function placed(id: string): { node: string; mac: string } | undefined {
      for (const node of ["n1", "n2"]) {
        const m = new RegExp(`"eu${id.slice(2)}" \\. ([0-9a-f:]{17})`).exec(
          sh(`ip netns exec ${c.nss.name(node)} nft list set bridge euca_node own_mac`).out,
        );
        if (m) return { node, mac: m[1]! };
      }
      return undefined;
    }

    async function launch(name: string, group: string): Promise<void> {
      const id: string = (await ec2("run-instances", "--image-id", image, "--security-groups", group)).Instances[0]
        .InstanceId;
      await until(async () => (await describeOne(id)).State.Name === "running");
      const at = placed(id)!;
      expect(at, `no node filters ${id}`).toBeDefined();
      const g = standInGuest(c.nss, {
        name,
        node: at.node,
        tap: `eu${id.slice(2)}`,
        mac: at.mac,
        bridge: "br0",
        dir: c.dir,
      });
      const lease = g.dhcp();
      const ip = /ip=(\S+)/.exec(lease)![1]!;
      // A SYSTEM guest is learned from what it sends; then EC2 reports the site's address. It
      // keeps sending until then (on a loaded machine one packet may come before the node reads).
      await until(
        async () => {
          if ((await describeOne(id)).PrivateIpAddress === ip) return true;
          c.nss.exec(name, `busybox ping -c 1 -W 1 192.168.50.254`);
          return false;
        },
        { timeoutMs: 30_000 },
      );
      guests[name] = { id, ip, lease, node: at.node };
      await c.serve(name, name, 22, 5432);
    }

    beforeAll(async () => {
      c = await startManagedCloud(
        mode === "SYSTEM" ? "eus" : "euy",
        [
          { name: "n1", hypervisor: "fake" },
          { name: "n2", hypervisor: "fake" },
        ],
        {
          mode,
          headArgs:
            mode === "STATIC"
              ? ["--vnet-mac-map", MACMAP.join(" "), "--vnet-router", "192.168.50.1", "--vnet-dns", "192.168.50.254"]
              : [],
        },
      );
      if (mode === "SYSTEM") startSiteDhcp(c);
      image = await c.importImage([imageFile("root.img", 300_000), "--name", `lan-${mode}`]);
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
        "192.168.50.254/32",
      );
      await ec2(
        "authorize-security-group-ingress",
        "--group-name",
        "db",
        "--protocol",
        "tcp",
        "--port",
        "5432",
        "--source-group",
        "web",
      );
      await launch("web1", "web");
      await launch("web2", "web");
      await launch("db1", "db");
    }, 180_000);

    afterAll(async () => {
      for (const p of Object.values(c?.procs ?? {})) p.child.kill("SIGKILL");
      c?.nss.cleanup();
    });

    it(
      mode === "SYSTEM"
        ? "each guest's address is the site DHCP's, learned by its node and reported by EC2"
        : "each guest leased its VNET_MACMAP pair from the CC, with the LAN's router, DNS and its host name",
      async () => {
        expect(new Set([guests.web1!.node, guests.web2!.node])).toEqual(new Set(["n1", "n2"]));
        for (const g of Object.values(guests)) {
          if (mode === "SYSTEM")
            expect(g.lease).toMatch(
              /ip=192\.168\.50\.1[0-5]\d subnet=255\.255\.255\.0 router=192\.168\.50\.1 .*serverid=192\.168\.50\.254/,
            );
          else
            expect(g.lease).toMatch(
              new RegExp(
                `ip=${g.ip.replaceAll(".", "\\.")} subnet=255\\.255\\.255\\.0 router=192\\.168\\.50\\.1 hostname=euca-${g.ip.replaceAll(".", "-")} .*serverid=192\\.168\\.50\\.1`,
              ),
            );
        }
        if (mode === "STATIC")
          expect(
            Object.values(guests)
              .map((g) => g.ip)
              .sort(),
          ).toEqual(MACMAP.map((p) => p.split("=")[1]));
      },
    );

    it("each guest reads its own instance id from 169.254.169.254 (its node answers), with IMDSv1 and with an IMDSv2 token", async () => {
      for (const [name, g] of Object.entries(guests))
        expect(await c.http(name, "GET", "http://169.254.169.254/latest/meta-data/instance-id")).toBe(g.id);
      const token = await c.http("db1", "PUT", "http://169.254.169.254/latest/api/token", {
        "X-aws-ec2-metadata-token-ttl-seconds": "60",
      });
      expect(token.length).toBeGreaterThan(20);
      expect(
        await c.http("db1", "GET", "http://169.254.169.254/latest/meta-data/local-ipv4", {
          "X-aws-ec2-metadata-token": token,
        }),
      ).toBe(guests.db1!.ip);
      expect(
        await c.http("web1", "GET", "http://169.254.169.254/latest/meta-data/local-ipv4", {
          "X-aws-ec2-metadata-token": token,
        }),
      ).toBe("Unauthorized"); // db1's token is not web1's
    });

    it("tcp/22 is let in from the authorized address and not from another host on the LAN", async () => {
      expect(await hear("site", guests.web1!.ip, 22)).toBe("web1:22 from 192.168.50.254");
      expect(await hear("site", guests.web2!.ip, 22)).toBe("web2:22 from 192.168.50.254");
      expect(await hear("head", guests.web1!.ip, 22)).toBe("");
      expect(await hear("site", guests.db1!.ip, 22)).toBe("");
    });

    it("a grant to a group lets its members in across nodes; the other way stays shut", async () => {
      expect(await hear("web1", guests.db1!.ip, 5432)).toBe(`db1:5432 from ${guests.web1!.ip}`);
      expect(await hear("web2", guests.db1!.ip, 5432)).toBe(`db1:5432 from ${guests.web2!.ip}`);
      expect(await hear("db1", guests.web1!.ip, 22)).toBe("");
      expect(await hear("site", guests.db1!.ip, 5432)).toBe("");
    });

    it("`euca admin network` shows the LAN, how guests are addressed, and the instances with their addresses", async () => {
      const args = [
        "admin",
        "network",
        "--data-dir",
        join(c.dir, "head"),
        "--vnet-mode",
        mode,
        "--host",
        "192.168.50.1",
        "--vnet-priv-interface",
        "eth0",
        ...(mode === "STATIC" ? ["--vnet-mac-map", MACMAP.join(" ")] : []),
      ];
      const r = await run(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH }, timeoutMs: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        mode === "STATIC"
          ? "addressed by this CC's DHCP on eth0 at 192.168.50.1 (192.168.50.0/24)"
          : "addressed by the site's DHCP",
      );
      for (const g of Object.values(guests))
        expect(r.stdout).toMatch(new RegExp(`${g.id}\\s+${g.node}\\s+${g.ip.replaceAll(".", "\\.")}`));
    });

    it("there are no elastic addresses on the site's LAN: AllocateAddress says so", async () => {
      await expect(ec2("allocate-address")).rejects.toThrow(/UnsupportedOperation.*MANAGED/);
    });

    it("a revoke stops new connections when the call returns and leaves the established one", async () => {
      const held = c.nss.spawn("site", "busybox", ["nc", guests.web1!.ip, "22"]);
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
        "192.168.50.254/32",
      );
      expect(await hear("site", guests.web1!.ip, 22)).toBe("");
      held.stdin!.write("still here\n");
      await until(async () => heard.includes("still here"));
      held.kill();
    });

    it("terminate removes every rule, link and lease; after shutdown each namespace is as it was", async () => {
      await ec2("terminate-instances", "--instance-ids", ...Object.values(guests).map((g) => g.id));
      for (const name of Object.keys(guests))
        sh(`ip netns pids ${c.nss.name(name)} | xargs -r kill -9; ip netns del ${c.nss.name(name)}`);
      await until(() => ["n1", "n2", "head"].every((n) => c.snapshot(n) === c.before[n])).catch(() => {
        for (const n of ["n1", "n2", "head"]) expect(c.snapshot(n), n).toBe(c.before[n]);
      });
      await c.stop();
      for (const n of ["head", "n1", "n2", "site"]) expect(c.snapshot(n), n).toBe(c.before[n]);
      expect(sh(`ip netns pids ${c.nss.name("head")}`).out.trim()).toBe(""); // STATIC's dnsmasq gone
    });
  });
}
