/**
 * VNET_MODE MANAGED with every role in one process on one host (`euca run --role all`):
 * the node shares the gateway's bridges (no VXLAN to itself), its guests are filtered on
 * the same host, and an outside client reaches an instance at its public address on the
 * port its group opens, and no other. A namespace stands in for the guest; users reach the
 * API over HTTPS (TLS=auto off loopback) and the guest its metadata in plain HTTP.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageFile } from "../support/bundles";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { until } from "../support/until";
import { canNetns, httpFrom, must, Namespaces, standInGuest } from "../support/netns";
import { BUNDLE, eucarcEnv, startEuca, type EucaProcess } from "../support/process";

describe.runIf(canNetns() || process.env.CI === "true")("MANAGED on one host (--role all)", () => {
  const nss = new Namespaces("eu1");
  const dir = tempDir("euca-one-host-");
  let p: EucaProcess;
  let env: NodeJS.ProcessEnv;
  let inst: { InstanceId: string; PrivateIpAddress: string; PublicIpAddress: string };
  let lease = "";
  let before = "";
  const snapshot = () =>
    must(
      `ip -n ${nss.name("host")} -br link show | sort; ip -n ${nss.name("host")} -br addr show | sort; ip netns exec ${nss.name("host")} nft list ruleset`,
    );
  const inHost = (cmd: string, args: string[]) =>
    run("ip", ["netns", "exec", nss.name("host"), cmd, ...args], {
      env: { PATH: process.env.PATH, HOME: dir, ...env },
      timeoutMs: 60_000,
    });
  async function ec2(...args: string[]) {
    const r = await inHost("/usr/bin/aws", ["--endpoint-url", p.ec2Url, "--output", "json", "ec2", ...args]);
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  }
  const hear = async (ip: string, port: number) =>
    (
      await run("ip", ["netns", "exec", nss.name("out"), "sh", "-c", `sleep 0.3 | busybox nc -w 2 ${ip} ${port}`])
    ).stdout.trim();

  beforeAll(async () => {
    nss.add("host", "out");
    must(
      `ip -n ${nss.name("host")} link add eth0 type bridge && ip -n ${nss.name("host")} addr add 192.168.60.1/24 dev eth0 && ip -n ${nss.name("host")} link set eth0 up`,
    );
    nss.wire("host", "pub0", "198.51.100.1/24", "out", "pub1", "198.51.100.2/24");
    before = snapshot();
    p = await startEuca(
      [
        "run",
        "--role",
        "all",
        "--data-dir",
        join(dir, "d"),
        "--host",
        "192.168.60.1",
        "--vnet-mode",
        "MANAGED",
        "--vnet-pub-interface",
        "pub0",
        "--public-ips",
        "198.51.100.50-198.51.100.59",
        "--hypervisor",
        "fake",
        "--node-poll-seconds",
        "0.2",
      ],
      // HTTPS for users (the default off loopback), so guests' metadata has a plain port of its own.
      { EUCA_TLS: "auto" },
      { netns: nss.name("host") },
    );
    const credDir = join(dir, "d", "credentials", "admin");
    env = { AWS_DEFAULT_REGION: "eucalyptus", ...eucarcEnv(credDir) };
    const imported = await inHost(process.execPath, [
      BUNDLE,
      "image",
      "import",
      imageFile("one-host.img", 100_000),
      "--name",
      "one-host",
    ]);
    const emi = /IMAGE\t(\S+)/.exec(imported.stdout)![1]!;
    await ec2(
      "authorize-security-group-ingress",
      "--group-name",
      "default",
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--cidr",
      "198.51.100.0/24",
    );
    inst = (await ec2("run-instances", "--image-id", emi)).Instances[0];
    await until(
      async () =>
        (await ec2("describe-instances", "--instance-ids", inst.InstanceId)).Reservations[0].Instances[0].State.Name ===
        "running",
    );
    const id = inst.InstanceId.slice(2);
    lease = standInGuest(nss, {
      name: "g",
      node: "host",
      tap: `eu${id}`,
      mac: `d0:0d:${id.match(/../g)!.join(":")}`,
      bridge: "eucabr11",
      dir,
    }).dhcp();
    const echo = nss.spawn("g", "node", [join(__dirname, "../support/net-echo.mjs"), "g", "22", "80"]);
    await new Promise((r) => echo.stdout!.once("data", r));
  }, 120_000);

  afterAll(() => {
    p?.child.kill("SIGKILL");
    nss.cleanup();
  });

  it("the guest leases its address; outside, its public address answers on 22 and not on 80", async () => {
    expect(lease).toContain(`ip=${inst.PrivateIpAddress}`);
    expect(must(`ip -n ${nss.name("host")} -br link show`)).not.toMatch(/^eucavx/m); // no VXLAN to itself
    await new Promise((r) => setTimeout(r, 300));
    expect(await hear(inst.PublicIpAddress, 22)).toBe("g:22 from 198.51.100.2");
    expect(await hear(inst.PublicIpAddress, 80)).toBe("");
  });

  it("the API is HTTPS; the guest reads its own id from 169.254.169.254 (plain HTTP to the same port)", async () => {
    expect(p.ec2Url).toMatch(/^https:/);
    expect(await httpFrom(nss.name("g"), "GET", "http://169.254.169.254/latest/meta-data/instance-id")).toBe(
      inst.InstanceId,
    );
  });

  it("terminate and shutdown leave the host as it was", async () => {
    await ec2("terminate-instances", "--instance-ids", inst.InstanceId);
    must(`ip netns pids ${nss.name("g")} | xargs -r kill -9; ip netns del ${nss.name("g")}`);
    p.child.kill("SIGTERM");
    await p.exited;
    expect(snapshot()).toBe(before);
  });
});
