/**
 * Role-to-role calls over mutual TLS with host certificates from the cloud CA: the same
 * contract as the other transports, and the refusals — no certificate, another CA's, a
 * revoked one, a component that may not call, a server that is not the role called.
 */
import { describe, expect, it } from "vitest";
import pino from "pino";
import { request } from "node:https";
import { createHttpClient } from "../../src/rpc/http-client";
import { createRpcApp } from "../../src/rpc/http-server";
import { listen } from "../../src/server/listen";
import { systemClock } from "../../src/common/clock";
import { randomIds } from "../../src/common/ids";
import { peerOf } from "../../src/rpc/identity";
import { serverTlsOptions, type HostTls } from "../../src/rpc/host-tls";
import { makeRevocationList } from "../../src/roles/clc/identity/host-certificates";
import { normalSerial, revokedSerials } from "../../src/auth/x509";
import { echoService, ECHO_METHODS, roleClientContract, type EchoClient } from "../contracts/role-clients.contract";
import { hostTls, testCa } from "../support/pki";
import { httpSetup } from "../support/rpc-servers";

const log = pino({ level: "silent" });
const ctx = { requestId: "req-tls" };

roleClientContract("mutual TLS", async () => httpSetup({ kind: "tls", ca: await testCa() }));

/** An echo service on a host holding an SC certificate of cluster "a", accepting that cluster's CC and nodes. */
async function echoServer(server: HostTls, revoked = new Set<string>()) {
  const app = createRpcApp({
    role: "echo",
    service: echoService(),
    methods: ECHO_METHODS,
    accepts: peerOf(["cc", "nc"], "a"),
    revoked: (s) => revoked.has(normalSerial(s)),
    clock: systemClock,
    log,
  });
  return listen(app, "127.0.0.1", 0, { tls: serverTlsOptions(server) });
}

const echoClient = (port: number, tls: HostTls, serverRole: "sc" | "walrus" = "sc") =>
  createHttpClient<EchoClient>(ECHO_METHODS, {
    baseUrl: `https://127.0.0.1:${port}`,
    role: "echo",
    serverRole,
    tls,
    clock: systemClock,
    ids: randomIds,
    timeoutMs: 5000,
  });

/** A raw HTTPS call (no client certificate unless given), trusting the CA: the status and the refusal's reason. */
function raw(port: number, ca: string, client?: HostTls): Promise<{ status: number; reason?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `https://127.0.0.1:${port}/internal/echo/echo`,
      {
        method: "POST",
        ca,
        cert: client?.certPem,
        key: client?.keyPem,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            reason: (JSON.parse(text) as { error?: { reason?: string } }).error?.reason,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

describe("mutual TLS: who may call", () => {
  it("accepts the cluster's CC and nodes; refuses another cluster's, no certificate, another CA's and a revoked one", async () => {
    const ca = await testCa();
    const revoked = new Set<string>();
    const server = await hostTls(ca, [{ role: "sc", cluster: "a" }]);
    const l = await echoServer(server, revoked);
    try {
      const cc = await hostTls(ca, [{ role: "cc", cluster: "a" }]);
      const node = await hostTls(ca, [{ role: "nc", cluster: "a", node: "n1" }]);
      expect(await echoClient(l.port, cc).echo({ text: "hi" }, ctx)).toMatchObject({ text: "hi" });
      expect(await echoClient(l.port, node).echo({ text: "hi" }, ctx)).toMatchObject({ text: "hi" });

      const otherCluster = await hostTls(ca, [{ role: "cc", cluster: "b" }]);
      await expect(echoClient(l.port, otherCluster).echo({ text: "x" }, ctx)).rejects.toThrow(
        /403 AuthFailure\/not-permitted/,
      );
      expect(await raw(l.port, ca.certPem, otherCluster)).toEqual({ status: 403, reason: "not-permitted" });

      expect(await raw(l.port, ca.certPem)).toEqual({ status: 401, reason: "no-certificate" });
      const rogueCa = await testCa();
      const rogue = await hostTls(rogueCa, [{ role: "cc", cluster: "a" }]);
      expect(await raw(l.port, ca.certPem, rogue)).toEqual({ status: 401, reason: "untrusted" });

      revoked.add(node.serial);
      expect(await raw(l.port, ca.certPem, node)).toEqual({ status: 401, reason: "revoked" });
      await expect(echoClient(l.port, node).echo({ text: "x" }, ctx)).rejects.toThrow(/401 AuthFailure\/revoked/);
      expect(await echoClient(l.port, cc).echo({ text: "still" }, ctx)).toMatchObject({ text: "still" });
    } finally {
      await l.close();
    }
  });

  it("a client refuses a server that does not hold the role it calls, or another CA's", async () => {
    const ca = await testCa();
    const l = await echoServer(await hostTls(ca, [{ role: "sc", cluster: "a" }]));
    try {
      const cc = await hostTls(ca, [{ role: "cc", cluster: "a" }]);
      await expect(echoClient(l.port, cc, "walrus").echo({ text: "x" }, ctx)).rejects.toThrow(
        /holds no walrus certificate/,
      );
      const strangerCa = await testCa();
      const stranger = await hostTls(strangerCa, [{ role: "cc", cluster: "a" }]);
      await expect(echoClient(l.port, stranger).echo({ text: "x" }, ctx)).rejects.toThrow(/unreachable/);
    } finally {
      await l.close();
    }
  });

  it("a server whose certificate does not name the address called is refused", async () => {
    const ca = await testCa();
    const l = await echoServer(await hostTls(ca, [{ role: "sc", cluster: "a" }], { addresses: ["192.0.2.7"] }));
    try {
      const cc = await hostTls(ca, [{ role: "cc", cluster: "a" }]);
      await expect(echoClient(l.port, cc).echo({ text: "x" }, ctx)).rejects.toThrow(
        /IP: 127.0.0.1 is not in the cert's list/,
      );
    } finally {
      await l.close();
    }
  });
});

describe("revocation lists", () => {
  it("a CRL made by the CA lists the revoked serials; another CA's is refused", async () => {
    const ca = await testCa();
    const other = await testCa();
    const crl = await makeRevocationList(ca, [{ serial: "1abc", at: new Date() }], new Date());
    expect([...(await revokedSerials(crl, ca.certPem))]).toEqual(["1abc"]);
    await expect(revokedSerials(crl, other.certPem)).rejects.toThrow(/not signed/);
  });
});
