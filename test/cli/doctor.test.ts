/**
 * `euca doctor`: each problem named with its fix and a non-zero exit — a host lacking
 * nftables, a port taken, a clock 10 minutes off the CLC's, an expired certificate.
 * (A healthy joined host passing every check is in test/roles/site-join.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { createServer as createHttpsServer } from "node:https";
import { createServer } from "node:net";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { main } from "../../src/cli/program";
import { runDoctor } from "../../src/cli/doctor/command";
import { dataDirLayout } from "../../src/common/data-dir";
import { writeHostTls } from "../../src/rpc/host-tls";
import { makeRevocationList } from "../../src/roles/clc/identity/host-certificates";
import { BUNDLE } from "../support/process";
import { tempDir, testSettings } from "../support/cloud";
import { hostTls, testCa } from "../support/pki";

async function doctor(args: string[]) {
  let out = "";
  const code = await main(["doctor", ...args], { env: {}, out: (t) => (out += t), err: (t) => (out += t) });
  return { code, out };
}

const line = (out: string, id: string) =>
  new RegExp(`^(PASS|WARN|FAIL)\\s+${id.replace(".", "\\.")}\\s+.*$`, "m").exec(out)?.[0] ?? "";

describe("euca doctor", () => {
  it("a port another program holds: FAIL with how to find it, exit 1", async () => {
    const srv = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => srv.once("listening", r));
    const port = (srv.address() as AddressInfo).port;
    try {
      const r = await doctor([
        "--role",
        "nc",
        "--hypervisor",
        "fake",
        "--nc-port",
        String(port),
        "--ec2-port",
        "0",
        "--data-dir",
        tempDir(),
      ]);
      expect(r.code).toBe(1);
      expect(line(r.out, "port.nc")).toMatch(/^FAIL\s+port\.nc\s+127\.0\.0\.1:\d+ is taken by another program/);
      expect(r.out).toMatch(/fix: stop it \(ss -ltnp 'sport = :\d+' names it\) or give euca another --nc-port/);
    } finally {
      srv.close();
    }
  });

  it("an expired host certificate: FAIL, join again", async () => {
    const ca = await testCa();
    const dir = tempDir();
    const old = await hostTls(ca, [{ role: "nc", cluster: "c1", node: "n1" }], {
      now: new Date(Date.now() - 2 * 366 * 24 * 3600 * 1000),
    });
    writeHostTls(dataDirLayout(dir), old);
    const results = await runDoctor(testSettings(dir, { roles: ["nc"], hypervisor: "fake", clusterName: "c1" }));
    const cert = results.find((r) => r.id === "cert.host")!;
    expect(cert.status).toBe("FAIL");
    expect(cert.detail).toMatch(/expired on/);
    expect(cert.fix).toMatch(/euca admin node add NAME --cluster c1; here: euca join <token>/);
  });

  it("a clock 10 minutes off the CLC's: FAIL, run NTP", async () => {
    const ca = await testCa();
    const dir = tempDir();
    const layout = dataDirLayout(dir);
    mkdirSync(layout.keysDir, { recursive: true });
    const me = await hostTls(ca, [{ role: "nc", cluster: "c1", node: "n1" }]);
    writeHostTls(layout, me);
    writeFileSync(layout.revocations, await makeRevocationList(ca, [], new Date()));
    // A CLC whose clock is 10 minutes ahead (its certificate from the same CA).
    const clc = await hostTls(ca, [{ role: "clc" }]);
    const srv = createHttpsServer({ cert: clc.certPem, key: clc.keyPem }, (_req, res) => {
      res.setHeader("date", new Date(Date.now() + 10 * 60_000).toUTCString());
      res.end("no");
    }).listen(0, "127.0.0.1");
    await new Promise((r) => srv.once("listening", r));
    try {
      const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      const results = await runDoctor(
        testSettings(dir, { roles: ["nc"], hypervisor: "fake", clusterName: "c1", clcUrl: url }),
      );
      const clock = results.find((r) => r.id === "clock.skew")!;
      expect(clock.status).toBe("FAIL");
      expect(clock.detail).toMatch(/this clock is (59\d|60\d) s behind the CLC's/); // the Date header has whole seconds
      expect(clock.fix).toMatch(/run NTP/);
      expect(results.find((r) => r.id === "cert.revoked")?.status).toBe("PASS");
    } finally {
      srv.close();
    }
  });

  const root = process.getuid?.() === 0;
  it.runIf(root || process.env.CI === "true")(
    "a host lacking nftables (hidden in a mount namespace): FAIL, apt-get install nftables",
    () => {
      const dir = tempDir();
      const script = `mount --bind /dev/null /usr/sbin/nft && exec ${process.execPath} ${BUNDLE} doctor --role nc --vnet-mode MANAGED --hypervisor fake --nc-port 0 --ec2-port 0 --data-dir ${join(dir, "d")}`;
      const r = spawnSync("unshare", ["-m", "sh", "-c", script], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(1);
      expect(line(r.stdout, "net.nft")).toMatch(
        /^FAIL\s+net\.nft\s+nft is not installed \(VNET_MODE MANAGED runs it\)/,
      );
      expect(r.stdout).toMatch(/fix: apt-get install nftables/);
    },
  );
});
