/** The rootless mode's firewall as forwards: which rules open which ports, from which addresses. */
import { describe, expect, it } from "vitest";
import {
  admitsLoopback,
  isLoopback,
  loopbackForwards,
  MAX_FORWARDED_PORTS,
  type IngressRule,
} from "../../src/net/port-forwards";

const keys = (rules: IngressRule[], addrs = ["127.64.0.10"]) =>
  loopbackForwards(addrs, rules).forwards.map((f) => `${f.protocol}:${f.hostIp}:${f.port}`);
const tcp = (from: number, to: number, cidr = "0.0.0.0/0"): IngressRule => ({
  protocol: "tcp",
  fromPort: from,
  toPort: to,
  cidr,
});

describe("loopback forwards from ingress rules", () => {
  it("a CIDR opens the port when it holds a loopback address", () => {
    expect(["0.0.0.0/0", "127.0.0.0/8", "127.0.0.1/32", "126.0.0.0/7", "127.64.0.0/16"].map(admitsLoopback)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["10.0.0.0/8", "128.0.0.0/1", "192.0.2.1/32", "nonsense", "127.0.0.1/33"].map(admitsLoopback)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(["127.64.0.1", "127.255.255.255"].map(isLoopback)).toEqual([true, true]);
    expect(["128.0.0.1", "127.0.0.256", "10.0.0.1", ""].map(isLoopback)).toEqual([false, false, false, false]);
  });

  it("the default group (no rules) forwards nothing; tcp, udp and all-traffic rules do, icmp and group grants do not", () => {
    expect(keys([])).toEqual([]);
    expect(keys([tcp(22, 22), { protocol: "udp", fromPort: 53, toPort: 54, cidr: "127.0.0.0/8" }])).toEqual([
      "tcp:127.64.0.10:22",
      "udp:127.64.0.10:53",
      "udp:127.64.0.10:54",
    ]);
    expect(
      keys([
        { protocol: "icmp", fromPort: 8, toPort: 0, cidr: "0.0.0.0/0" },
        { protocol: "tcp", fromPort: 22, toPort: 22, sourceGroupId: "sg-1" },
        tcp(80, 80, "10.0.0.0/8"),
      ]),
    ).toEqual([]);
  });

  it("each address gets every port; addresses that are not loopback get none", () => {
    const plan = loopbackForwards(["127.64.0.10", "127.65.0.2", "192.0.2.7", ""], [tcp(22, 22)]);
    expect(plan.forwards.map((f) => `${f.hostIp}:${f.port}`)).toEqual(["127.64.0.10:22", "127.65.0.2:22"]);
    expect(plan.skipped).toEqual(["192.0.2.7"]);
  });

  it("overlapping rules forward a port once; port 0 is never forwarded", () => {
    expect(keys([tcp(0, 3), tcp(2, 4), tcp(3, 3, "127.0.0.1/32")])).toEqual([
      "tcp:127.64.0.10:1",
      "tcp:127.64.0.10:2",
      "tcp:127.64.0.10:3",
      "tcp:127.64.0.10:4",
    ]);
  });

  it("past the limit, narrow rules are kept and the lowest ports of wide ones fill the rest; the plan says how many were left out", () => {
    const plan = loopbackForwards(
      ["127.64.0.10"],
      [{ protocol: "-1", fromPort: -1, toPort: -1, cidr: "0.0.0.0/0" }, tcp(8443, 8443)],
    );
    expect(plan.forwarded).toBe(MAX_FORWARDED_PORTS);
    expect(plan.allowed).toBe(2 * 65535);
    const ports = plan.forwards.map((f) => `${f.protocol}/${f.port}`);
    expect(ports).toContain("tcp/8443");
    expect(ports).toContain("tcp/1");
    expect(ports.filter((x) => x.startsWith("udp"))).toEqual([]); // equal ranges: tcp first, the protocol people connect with
    expect(ports).not.toContain("tcp/65535");
    expect(plan.forwards).toHaveLength(MAX_FORWARDED_PORTS);
  });
});
