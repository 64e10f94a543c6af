/**
 * The CLC's side of failures, against a scripted cluster: what a silent or refusing
 * cluster leaves in clc.db (states, unreported times, intents, addresses), and how a kept
 * terminate is retried — the intent's pauses, its hurry when the node is heard, and the
 * addresses given back only once the cluster confirms.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Clock } from "../../../../src/common/clock";
import { randomIds } from "../../../../src/common/ids";
import { UnavailableError } from "../../../../src/common/errors";
import { openClcDatabase } from "../../../../src/roles/clc/database";
import { instances } from "../../../../src/roles/clc/schema";
import { createAddressService } from "../../../../src/roles/clc/compute/addresses";
import { createIntents, retryDelay, MAX_RETRY_MS } from "../../../../src/roles/clc/compute/intents";
import {
  createInstanceReports,
  INTERRUPTED_LAUNCH,
  USER_SHUTDOWN,
} from "../../../../src/roles/clc/compute/instance-reports";
import type { ClusterClient, ClusterInstance } from "../../../../src/roles/cc/client";
import { tempDir } from "../../../support/cloud";

const ctx = { requestId: "req-reports" };

/** What the scripted cluster does: its report per instance, and how it answers a terminate. */
interface Script {
  reports: Map<string, ClusterInstance>;
  /** "down": every call fails as an unreachable cluster's; "unfinished": its node is silent; "ok": done. */
  cluster: "ok" | "down";
  terminate: "ok" | "unfinished";
  terminated: string[];
}

function setup() {
  let now = Date.parse("2026-12-07T10:00:00Z");
  const clock: Clock = { now: () => new Date(now) };
  const clc = openClcDatabase(join(tempDir("euca-clc-reports-"), "clc.db"));
  const script: Script = { reports: new Map(), cluster: "ok", terminate: "ok", terminated: [] };
  const refuse = () => {
    if (script.cluster === "down")
      throw new UnavailableError("cc at http://10.0.0.2:8774 is unreachable: fetch failed");
  };
  const client = {
    async describeInstances({ instanceIds }) {
      refuse();
      return {
        instances: [...script.reports.values()].filter((r) => !instanceIds || instanceIds.includes(r.instanceId)),
      };
    },
    async terminateInstances({ instanceIds }) {
      refuse();
      if (script.terminate === "unfinished")
        return {
          instances: [],
          unfinished: instanceIds.map((instanceId) => ({ instanceId, reason: "node n1 is down" })),
        };
      script.terminated.push(...instanceIds);
      for (const id of instanceIds) script.reports.delete(id);
      return { instances: [], unfinished: [] };
    },
  } as Partial<ClusterClient> as ClusterClient;
  const addresses = createAddressService({
    db: clc,
    ids: randomIds,
    pool: ["198.51.100.1", "198.51.100.2", "198.51.100.3"],
    maxPerUser: 5,
  });
  const intents = createIntents({ db: clc, clock });
  const ended: string[] = [];
  const reports = createInstanceReports({
    db: clc,
    clock,
    clusters: () => [{ name: "zone-a", client }],
    addresses,
    intents,
    reported: async (_r, e) => void ended.push(...e),
  });
  const add = (id: string, state: "pending" | "running" | "shutting-down") => {
    clc.db
      .insert(instances)
      .values({
        id,
        reservationId: "r-00000001",
        accountId: "000000000001",
        imageId: "emi-00000001",
        instanceType: "m1.small",
        groups: "[]",
        state,
        launchIndex: 0,
        zone: "zone-a",
        privateIp: "10.128.0.5",
        mac: "d0:0d:00:00:00:05",
        launchTime: clock.now(),
      })
      .run();
    return addresses.assignAtLaunch(id);
  };
  const row = (id: string) => clc.db.select().from(instances).where(eq(instances.id, id)).get()!;
  const report = (id: string, state: ClusterInstance["state"], unreportedSince?: number) =>
    script.reports.set(id, {
      instanceId: id,
      state,
      launchTime: new Date(now).toISOString(),
      node: "n1",
      ...(unreportedSince !== undefined ? { unreportedSince } : {}),
    });
  return {
    clc,
    clock,
    script,
    reports,
    intents,
    addresses,
    ended,
    add,
    row,
    report,
    advance: (ms: number) => void (now += ms),
  };
}

describe("intents' pauses", () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [5, 16_000],
    [6, MAX_RETRY_MS],
    [40, MAX_RETRY_MS],
  ])("after %i failed attempts, the next comes %i ms later", (attempts, ms) => {
    expect(retryDelay(attempts)).toBe(ms);
  });
});

describe("instances whose cluster or node is silent", () => {
  it("keep their state; unreported from the node's last contact (or, with the cluster silent, from now), cleared when reported", async () => {
    const t = setup();
    t.add("i-00000001", "running");
    const lastContact = t.clock.now().getTime() - 7_000;
    t.report("i-00000001", "Extant", lastContact);
    await t.reports.refresh([t.row("i-00000001")], ctx);
    expect(t.row("i-00000001")).toMatchObject({ state: "running", unreportedSince: new Date(lastContact) });

    t.report("i-00000001", "Extant");
    await t.reports.refresh([t.row("i-00000001")], ctx);
    expect(t.row("i-00000001").unreportedSince).toBeNull();

    t.script.cluster = "down";
    await t.reports.refresh([t.row("i-00000001")], ctx);
    const since = t.row("i-00000001").unreportedSince;
    expect(since).toEqual(t.clock.now());
    t.advance(5_000);
    await t.reports.refresh([t.row("i-00000001")], ctx);
    expect(t.row("i-00000001")).toMatchObject({ state: "running", unreportedSince: since }); // the first silence counts
  });

  it("a guest its answering node lost ends with a reason; its address goes back only once the cluster let go, retried with pauses", async () => {
    const t = setup();
    const ip = t.add("i-00000002", "running");
    t.script.terminate = "unfinished";
    await t.reports.refresh([t.row("i-00000002")], ctx); // absent from its node's report
    expect(t.row("i-00000002")).toMatchObject({
      state: "terminated",
      stateReason: expect.stringMatching(/^Server\.InternalError: its node no longer runs it/),
    });
    expect(t.addresses.publicIpOf("i-00000002")).toBe(ip);
    expect(t.intents.list()).toMatchObject([
      { kind: "terminate", target: "i-00000002", attempts: 1, lastError: "node n1 is down" },
    ]);
    expect(t.ended).toEqual([]);

    t.script.terminate = "ok";
    await t.reports.retry(ctx); // not due yet
    expect(t.script.terminated).toEqual([]);
    t.advance(retryDelay(1));
    await t.reports.retry(ctx);
    expect(t.script.terminated).toEqual(["i-00000002"]);
    expect(t.addresses.publicIpOf("i-00000002")).toBeUndefined();
    expect(t.intents.list()).toEqual([]);
    expect(t.ended).toEqual(["i-00000002"]);
    expect(t.row("i-00000002").stateReason).toMatch(/its node no longer runs it/); // the first reason stays
  });

  it("a user's terminate that could not be carried out stays shutting-down; hurried when its node is heard; then terminated", async () => {
    const t = setup();
    const ip = t.add("i-00000003", "running");
    t.clc.db.update(instances).set({ state: "shutting-down" }).where(eq(instances.id, "i-00000003")).run();
    t.intents.record("terminate", "i-00000003", "zone-a");
    t.script.terminate = "unfinished";
    expect(await t.reports.terminateAt("zone-a", ["i-00000003"], ctx)).toEqual(new Set());
    expect(t.row("i-00000003").state).toBe("shutting-down");
    t.script.cluster = "down";
    t.advance(retryDelay(1));
    await t.reports.retry(ctx);
    expect(t.intents.list()[0]).toMatchObject({ attempts: 2, lastError: expect.stringMatching(/unreachable/) });
    expect(t.addresses.publicIpOf("i-00000003")).toBe(ip);

    // The node is heard again, still running the guest: the retry is due at once.
    t.script.cluster = "ok";
    t.script.terminate = "ok";
    t.report("i-00000003", "Extant");
    await t.reports.refresh([t.row("i-00000003")], ctx);
    await t.reports.retry(ctx);
    expect(t.row("i-00000003")).toMatchObject({ state: "terminated", stateReason: USER_SHUTDOWN });
    expect(t.addresses.publicIpOf("i-00000003")).toBeUndefined();
  });

  it("at start: a launch no cluster knows was cut short and ends; one shutting-down gets its intent back", async () => {
    const t = setup();
    t.add("i-00000004", "pending");
    t.add("i-00000005", "shutting-down");
    t.add("i-00000006", "running");
    t.report("i-00000006", "Extant", t.clock.now().getTime()); // on a silent node: known, kept
    t.script.terminate = "unfinished";
    expect(await t.reports.reconcileAtStart(ctx)).toEqual(["i-00000004"]);
    expect(t.row("i-00000004")).toMatchObject({ state: "terminated", stateReason: INTERRUPTED_LAUNCH });
    expect(t.row("i-00000006").state).toBe("running");
    expect(
      t.intents
        .list()
        .map((i) => i.target)
        .sort(),
    ).toEqual(["i-00000004", "i-00000005"]);
  });
});
