/**
 * Join tokens and host certificates on the CLC: a cluster joins, joins again (a new
 * certificate; the old one revoked, its URL updated), a node's token needs a known cluster,
 * a token is spent once, and a refused join gives its token back.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import pino from "pino";
import { openClcDatabase } from "../../../../src/roles/clc/database";
import { createJoins } from "../../../../src/roles/clc/clusters/joins";
import { listRemoteClusters } from "../../../../src/roles/clc/clusters/cluster-registry";
import { decodeJoinToken } from "../../../../src/rpc/join-token";
import { certificateFacts, makeKeyAndRequest, revokedSerials } from "../../../../src/auth/x509";
import { systemClock } from "../../../../src/common/clock";
import { randomIds } from "../../../../src/common/ids";
import { tempDir } from "../../../support/cloud";
import { testCa } from "../../../support/pki";

async function setup() {
  const ca = await testCa();
  const db = openClcDatabase(join(tempDir(), "clc.db"));
  const joins = createJoins({
    db,
    ca: () => ca,
    clock: systemClock,
    ids: randomIds,
    log: pino({ level: "silent" }),
    cluster: () => undefined,
    site: () => ({ url: "https://192.0.2.1:8779", settings: { VNET_MODE: "MANAGED" } }),
  });
  const redeem = async (token: string, address = "192.0.2.10") => {
    const t = decodeJoinToken(token);
    const { csrPem } = await makeKeyAndRequest("h");
    return joins.redeem({ id: t.id, secret: t.secret, csrPem, address, port: 8774 }, { requestId: "r" });
  };
  return { ca, db, joins, redeem };
}

describe("joins", () => {
  it("a cluster joins, and joins again: a new certificate, the old one revoked, its URL updated", async () => {
    const { ca, db, joins, redeem } = await setup();
    const first = await redeem(joins.issue({ kind: "cluster", cluster: "zone-a" }).token);
    expect(first).toMatchObject({
      kind: "cluster",
      cluster: "zone-a",
      roles: ["cc", "sc"],
      settings: { VNET_MODE: "MANAGED" },
    });
    expect(certificateFacts(first.certPem).uris).toEqual(["euca://cc/zone-a", "euca://sc/zone-a"]);
    expect(listRemoteClusters(db).map((c) => c.url)).toEqual(["https://192.0.2.10:8774"]);

    const second = await redeem(joins.issue({ kind: "cluster", cluster: "zone-a" }).token, "192.0.2.11");
    expect(listRemoteClusters(db).map((c) => c.url)).toEqual(["https://192.0.2.11:8774"]);
    const revoked = await revokedSerials(await joins.revocationList(), ca.certPem);
    expect(revoked.has(certificateFacts(first.certPem).serial)).toBe(true);
    expect(revoked.has(certificateFacts(second.certPem).serial)).toBe(false);
  });

  it("a token is spent once; a node's needs a known cluster; a bad request gives the token back", async () => {
    const { joins, redeem } = await setup();
    expect(() => joins.issue({ kind: "node", cluster: "nowhere", node: "n1" })).toThrow(
      /cluster 'nowhere' does not exist/,
    );
    const { token } = joins.issue({ kind: "cluster", cluster: "zone-b" });
    const t = decodeJoinToken(token);
    await expect(
      joins.redeem(
        { id: t.id, secret: t.secret, csrPem: "not a request", address: "192.0.2.12", port: 8774 },
        { requestId: "r" },
      ),
    ).rejects.toThrow(/does not parse/);
    await redeem(token); // given back: still usable once
    await expect(redeem(token)).rejects.toThrow(/has been used/);
    await expect(
      joins.redeem(
        { id: t.id, secret: "x".repeat(40), csrPem: "", address: "192.0.2.12", port: 8774 },
        { requestId: "r" },
      ),
    ).rejects.toThrow(/not one this cloud issued/);
  });
});
