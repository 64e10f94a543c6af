import { describe, expect, it } from "vitest";
import { createInProcessClient } from "../../src/rpc/in-process";
import { createHttpClient } from "../../src/rpc/http-client";
import { signInternalRequest } from "../../src/rpc/signing";
import { fixedClock } from "../../src/common/clock";
import { randomIds } from "../../src/common/ids";
import { NODE_METHODS, type NodeClient } from "../../src/roles/nc/client";
import { CLUSTER_METHODS } from "../../src/roles/cc/client";
import { roleClientContract, ECHO_METHODS } from "../contracts/role-clients.contract";
import { clusterOver, httpSetup, services } from "../support/rpc-servers";

const key = { id: "ECKTEST0000000000001", secret: "s3cr3t-component-key" };

roleClientContract("the in-process transport", async () => {
  const s = services();
  const node = createInProcessClient(NODE_METHODS, s.node);
  const cluster = clusterOver(node);
  return {
    node,
    cluster: createInProcessClient(CLUSTER_METHODS, cluster),
    echo: createInProcessClient(ECHO_METHODS, s.echo),
    teardown: async () => {},
  };
});

roleClientContract("signed HTTP", () => httpSetup({ kind: "key", key }));

describe("signed HTTP refuses what it must", () => {
  async function send(port: number, headers: Record<string, string>, body: string) {
    const res = await fetch(`http://127.0.0.1:${port}/internal/nc/describeResource`, { method: "POST", headers, body });
    return { status: res.status, body: (await res.json()) as { result?: unknown; error?: { reason?: string } } };
  }
  function signed(port: number, body: string, opts: { now?: Date; nonce?: string; k?: typeof key } = {}) {
    const url = new URL(`http://127.0.0.1:${port}/internal/nc/describeResource`);
    const h = signInternalRequest(
      { method: "POST", url, body, requestId: "req-1" },
      opts.k ?? key,
      opts.now ?? new Date(),
      opts.nonce ?? randomIds.nonce(),
    );
    delete h.host;
    return h;
  }

  it("accepts a properly signed request once, and refuses its replay", async () => {
    const c = await httpSetup({ kind: "key", key });
    try {
      const h = signed(c.ports.nc, "{}");
      expect((await send(c.ports.nc, h, "{}")).status).toBe(200);
      const again = await send(c.ports.nc, h, "{}");
      expect(again).toMatchObject({ status: 401, body: { error: { reason: "replayed" } } });
    } finally {
      await c.teardown();
    }
  });

  it("refuses an unsigned request", async () => {
    const c = await httpSetup({ kind: "key", key });
    try {
      expect(await send(c.ports.nc, { "content-type": "application/json" }, "{}")).toMatchObject({
        status: 401,
        body: { error: { reason: "missing" } },
      });
    } finally {
      await c.teardown();
    }
  });

  it("refuses a tampered body, a tampered request id, and a wrong key", async () => {
    const c = await httpSetup({ kind: "key", key });
    try {
      const h = signed(c.ports.nc, "{}");
      expect((await send(c.ports.nc, h, '{"x":1}')).status).toBe(401);
      const h2 = signed(c.ports.nc, "{}");
      expect((await send(c.ports.nc, { ...h2, "x-euca-request-id": "forged" }, "{}")).body.error?.reason).toBe(
        "bad-signature",
      );
      const h3 = signed(c.ports.nc, "{}", { k: { id: key.id, secret: "not-the-secret" } });
      expect((await send(c.ports.nc, h3, "{}")).body.error?.reason).toBe("bad-signature");
      const h4 = signed(c.ports.nc, "{}", { k: { id: "ECKUNKNOWN", secret: key.secret } });
      expect((await send(c.ports.nc, h4, "{}")).body.error?.reason).toBe("unknown-key");
    } finally {
      await c.teardown();
    }
  });

  it("refuses an expired request (6 minutes old) and one from the future", async () => {
    const c = await httpSetup({ kind: "key", key });
    try {
      const old = signed(c.ports.nc, "{}", { now: new Date(Date.now() - 6 * 60_000) });
      expect((await send(c.ports.nc, old, "{}")).body.error?.reason).toBe("expired");
      const future = signed(c.ports.nc, "{}", { now: new Date(Date.now() + 6 * 60_000) });
      expect((await send(c.ports.nc, future, "{}")).body.error?.reason).toBe("expired");
    } finally {
      await c.teardown();
    }
  });

  it("a client whose clock is off reports the refusal as an unavailable component", async () => {
    const c = await httpSetup({ kind: "key", key });
    try {
      const skewed = createHttpClient<NodeClient>(NODE_METHODS, {
        baseUrl: `http://127.0.0.1:${c.ports.nc}`,
        role: "nc",
        key,
        clock: fixedClock("2020-01-01T00:00:00Z"),
        ids: randomIds,
      });
      await expect(skewed.describeResource({}, { requestId: "r" })).rejects.toMatchObject({
        kind: "Unavailable",
        message: expect.stringContaining("401"),
      });
    } finally {
      await c.teardown();
    }
  });
});
