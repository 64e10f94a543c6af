import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { systemClock } from "../../../src/common/clock";
import { randomIds } from "../../../src/common/ids";
import { installComponentKey } from "../../../src/rpc/key-file";
import { createHttpWalrusClient } from "../../../src/roles/walrus/http-client";
import { startTestCloud } from "../../support/cloud";
import { walrusClientContract } from "../../contracts/walrus-client.contract";
import { hostTls } from "../../support/pki";
import { readFileSync } from "node:fs";

walrusClientContract("the in-process transport", async () => {
  const t = await startTestCloud();
  return { client: t.cloud.walrusClient!, teardown: () => t.stop() };
});

const key = { id: "ENKWALRUSTEST0000001", secret: "walrus-component-secret", role: "sc", name: "sc-test" };

async function httpSetup() {
  const t = await startTestCloud();
  installComponentKey(t.cloud.layout.componentKeys, key);
  const baseUrl = new URL(t.cloud.endpoints.ec2Url).origin;
  return {
    t,
    client: createHttpWalrusClient({ baseUrl, key, clock: systemClock, ids: randomIds }),
    teardown: () => t.stop(),
  };
}

walrusClientContract("signed HTTP", httpSetup);

/** Walrus on the head's internal listener, called by a cluster host's SC with the certificate it got at its join. */
walrusClientContract("mutual TLS", async () => {
  const t = await startTestCloud({ settings: { roles: ["clc", "walrus"] } });
  const { layout } = t.cloud;
  const ca = { certPem: readFileSync(layout.cloudCert, "utf8"), keyPem: readFileSync(layout.cloudKey, "utf8") };
  const tls = await hostTls(ca, [{ role: "sc", cluster: "zone-a" }]);
  return {
    client: createHttpWalrusClient({ baseUrl: t.cloud.internal.clc!, tls, clock: systemClock, ids: randomIds }),
    teardown: () => t.stop(),
  };
});

describe("Walrus internal routes refuse unsigned and wrongly keyed calls", () => {
  it("unsigned → 401; unknown key → refused", async () => {
    const { t, teardown } = await httpSetup();
    try {
      const base = new URL(t.cloud.endpoints.ec2Url).origin;
      const res = await fetch(`${base}/internal/walrus/headObject?bucket=b&key=k`, { method: "POST" });
      expect(res.status).toBe(401);
      const wrong = createHttpWalrusClient({
        baseUrl: base,
        key: { id: key.id, secret: "nope" },
        clock: systemClock,
        ids: randomIds,
      });
      await expect(wrong.ensureBucket("x-bucket", { requestId: "r" })).rejects.toMatchObject({
        kind: "Unavailable",
        message: expect.stringContaining("401"),
      });
      await expect(
        wrong.putObject(
          { bucket: "x-bucket", key: "k" },
          { open: () => Readable.from([Buffer.from("data")]), size: 4 },
          { requestId: "r" },
        ),
      ).rejects.toMatchObject({ kind: "Unavailable" });
    } finally {
      await teardown();
    }
  });
});
