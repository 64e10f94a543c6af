import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { openCcDatabase } from "../../../src/roles/cc/database";
import { createNetworkService, macOf, networkOf } from "../../../src/roles/cc/networks";
import { tempDir } from "../../support/cloud";

function service(addrsPerNet = 32, now = { t: Date.parse("2026-11-21T00:00:00Z") }) {
  const db = openCcDatabase(join(tempDir("euca-net-"), "cc.db"));
  return {
    db,
    now,
    net: createNetworkService({ db, clock: { now: () => new Date(now.t) }, plan: { subnet: [10, 128], addrsPerNet } }),
  };
}

describe("security-group networks (MANAGED-mode plan, as data)", () => {
  it("gives each (account, group) its own network, VLAN and gateway; addresses from .2; MACs from the instance id", () => {
    const { net } = service();
    const web = net.allocate("111111111111", "web", ["i-00000001", "i-00000002"]);
    const db = net.allocate("111111111111", "db", ["i-00000003"]);
    const other = net.allocate("222222222222", "web", ["i-00000004"]);
    expect(web.map((l) => l.privateIp)).toEqual(["10.128.0.34", "10.128.0.35"]);
    expect(web[0]!.network).toEqual({ index: 1, vlan: 11, cidr: "10.128.0.32/27", gateway: "10.128.0.33" });
    expect(db[0]!.network.cidr).toBe("10.128.0.64/27");
    expect(other[0]!.network.index).toBe(3);
    expect(web[0]!.mac).toBe("d0:0d:00:00:00:01");
    expect(macOf("i-1A2B3C4D")).toBe("d0:0d:1a:2b:3c:4d");
    expect(networkOf({ subnet: [10, 128], addrsPerNet: 256 }, 2)).toMatchObject({
      cidr: "10.128.2.0/24",
      gateway: "10.128.2.1",
    });
  });

  it("is idempotent per instance, reuses released addresses, and runs out with a clear error", () => {
    const { net } = service(8); // 8 per network: .2 to .6 usable
    const first = net.allocate("1", "g", ["i-00000001"]);
    expect(net.allocate("1", "g", ["i-00000001"])).toEqual(first);
    net.allocate("1", "g", ["i-00000002", "i-00000003", "i-00000004", "i-00000005"]);
    expect(() => net.allocate("1", "g", ["i-00000006"])).toThrow(/Not enough resources available: addresses/);
    net.release(["i-00000003"]);
    expect(net.allocate("1", "g", ["i-00000006"])[0]!.privateIp).toBe("10.128.0.12"); // .4 of network 1 (10.128.0.8/29)
  });

  it("sweeps leases of instances never placed once the grace period is over", () => {
    const { net, now } = service();
    net.allocate("1", "g", ["i-00000001"]);
    expect(net.sweep(60_000)).toBe(0);
    now.t += 61_000;
    expect(net.sweep(60_000)).toBe(1);
    expect(net.describe()[0]!.leases).toEqual([]);
  });

  it("refuses a bad VNET_ADDRSPERNET", () => {
    expect(() => service(30)).toThrow(/power of two/);
  });
});

describe("addresses on the site's LAN (SYSTEM, STATIC)", () => {
  const lanService = (mode: "SYSTEM" | "STATIC", macMap: Array<{ mac: string; ip: string }> = []) => {
    const db = openCcDatabase(join(tempDir("euca-lan-"), "cc.db"));
    return createNetworkService({
      db,
      clock: { now: () => new Date() },
      plan: { subnet: [10, 128], addrsPerNet: 32, lan: { mode, macMap } },
    });
  };

  it("STATIC leases VNET_MACMAP's pairs first come first served, gives freed ones again, and says when all are taken", () => {
    const net = lanService("STATIC", [
      { mac: "d0:0d:aa:00:00:01", ip: "192.168.1.201" },
      { mac: "d0:0d:aa:00:00:02", ip: "192.168.1.202" },
    ]);
    const [a, b] = net.allocate("1", "web", ["i-00000001", "i-00000002"]);
    expect([a!.mac, a!.privateIp, b!.mac, b!.privateIp]).toEqual([
      "d0:0d:aa:00:00:01",
      "192.168.1.201",
      "d0:0d:aa:00:00:02",
      "192.168.1.202",
    ]);
    expect(net.allocate("2", "db", ["i-00000001"])).toEqual([a]); // idempotent per instance, whatever the group
    expect(() => net.allocate("1", "web", ["i-00000003"])).toThrow("all 2 addresses of VNET_MACMAP are in use");
    net.release(["i-00000001"]);
    expect(net.allocate("1", "web", ["i-00000003"])[0]).toMatchObject({
      mac: "d0:0d:aa:00:00:01",
      privateIp: "192.168.1.201",
    });
    expect(net.learn("i-00000003", "192.168.1.9")).toBe(false); // STATIC's addresses are not learned
  });

  it("SYSTEM leases a MAC alone; a node's report gives the address once, never one another instance holds", () => {
    const net = lanService("SYSTEM");
    const [a, b] = net.allocate("1", "web", ["i-00000001", "i-00000002"]);
    expect(a).toMatchObject({ mac: "d0:0d:00:00:00:01", privateIp: "" });
    expect(b!.privateIp).toBe("");
    expect(net.learn("i-00000001", "192.168.1.120")).toBe(true);
    expect(net.learn("i-00000001", "192.168.1.121")).toBe(false); // the first is kept
    expect(net.learn("i-00000002", "192.168.1.120")).toBe(false); // taken
    expect(net.learn("i-00000009", "192.168.1.122")).toBe(false); // no such lease
    expect(net.allocate("1", "web", ["i-00000001"])[0]!.privateIp).toBe("192.168.1.120");
  });
});
