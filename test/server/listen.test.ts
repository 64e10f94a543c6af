/**
 * One port, two protocols: with `tls` and `plain`, a connection opening with a TLS
 * handshake is served the TLS app and one opening in plain HTTP the plain app, each with
 * every byte of its request (kept-alive requests and large bodies included); a connection
 * that closes before its first byte leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { connect } from "node:net";
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { randomBytes, createHash } from "node:crypto";
import { listen, type Listening } from "../../src/server/listen";
import { issueServerCertificate } from "../../src/roles/clc/identity/pki";
import { testCa } from "../support/pki";

let l: Listening;
let ca = "";
let tlsOptions: { cert: string; key: string };

const echo = (who: string) => {
  const app = new Hono();
  app.post("/sum", async (c) => {
    const body = Buffer.from(await c.req.arrayBuffer());
    return c.text(`${who} ${body.length} ${createHash("sha256").update(body).digest("hex")}`);
  });
  app.get("/who", (c) => c.text(who));
  return app;
};

beforeAll(async () => {
  const cloudCa = await testCa();
  ca = cloudCa.certPem;
  const cert = await issueServerCertificate(cloudCa, { dns: ["localhost"], ips: ["127.0.0.1"] }, new Date());
  tlsOptions = { cert: cert.certPem, key: cert.keyPem };
  l = await listen(echo("tls"), "127.0.0.1", 0, { tls: tlsOptions, plain: echo("plain") });
});
afterAll(() => l?.close());

function call(
  secure: boolean,
  method: string,
  path: string,
  body?: Buffer,
  agent?: HttpAgent,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = secure ? httpsRequest : httpRequest;
    const req = request(
      { host: "127.0.0.1", port: l.port, method, path, ...(secure ? { ca } : {}), ...(agent ? { agent } : {}) },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("a port that speaks TLS and plain HTTP", () => {
  it("each protocol reaches its own app", async () => {
    expect((await call(true, "GET", "/who")).text).toBe("tls");
    expect((await call(false, "GET", "/who")).text).toBe("plain");
  });

  it("no byte is lost: 8 MiB bodies, several requests on one kept-alive connection of each kind", async () => {
    const body = randomBytes(8 * 1024 * 1024);
    const sum = createHash("sha256").update(body).digest("hex");
    const agents = {
      tls: new HttpsAgent({ keepAlive: true, maxSockets: 1 }),
      plain: new HttpAgent({ keepAlive: true, maxSockets: 1 }),
    };
    for (let i = 0; i < 3; i++) {
      expect((await call(true, "POST", "/sum", body, agents.tls)).text).toBe(`tls ${body.length} ${sum}`);
      expect((await call(false, "POST", "/sum", body, agents.plain)).text).toBe(`plain ${body.length} ${sum}`);
    }
    agents.tls.destroy();
    agents.plain.destroy();
  });

  it("a connection that closes before its first byte is let go; kept-alive ones and one that never sends a byte do not hold close()", async () => {
    await new Promise<void>((resolve) => {
      const s = connect(l.port, "127.0.0.1", () => s.end());
      s.on("close", () => resolve());
    });
    expect((await call(false, "GET", "/who")).text).toBe("plain");
    const other = await listen(echo("x"), "127.0.0.1", 0, { tls: tlsOptions, plain: echo("y") });
    // Kept-alive connections of each kind stay open after their answers: close() ends them (it waited forever once).
    const keep = { tls: new HttpsAgent({ keepAlive: true }), plain: new HttpAgent({ keepAlive: true }) };
    for (const secure of [true, false])
      await new Promise<void>((resolve, reject) =>
        (secure ? httpsRequest : httpRequest)(
          {
            host: "127.0.0.1",
            port: other.port,
            path: "/who",
            agent: secure ? keep.tls : keep.plain,
            ...(secure ? { ca } : {}),
          },
          (res) => res.resume().on("end", resolve),
        )
          .on("error", reject)
          .end(),
      );
    const silent = connect(other.port, "127.0.0.1");
    await new Promise((r) => silent.once("connect", r));
    const closedBy = new Promise((r) => silent.once("close", r));
    await other.close();
    await closedBy;
  });
});
