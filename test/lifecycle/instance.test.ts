import { describe, expect, it } from "vitest";
import {
  INSTANCE_STATES,
  INSTANCE_TRANSITIONS,
  NODE_RECORD_STATES,
  NODE_TRANSITIONS,
  canMove,
  reconcile,
  reportedState,
  statesBefore,
  INSTANCE_REPORTS,
  RECONCILE,
} from "../../src/lifecycle/instance";

describe("the instance lifecycle", () => {
  it("terminal states are terminal, and every state can end", () => {
    expect(INSTANCE_TRANSITIONS.terminated).toEqual([]);
    expect(NODE_TRANSITIONS.teardown).toEqual([]);
    for (const s of INSTANCE_STATES) expect(canMove(INSTANCE_TRANSITIONS, s, "terminated")).toBe(true);
    for (const s of NODE_RECORD_STATES) expect(canMove(NODE_TRANSITIONS, s, "teardown")).toBe(true);
    expect(statesBefore(INSTANCE_TRANSITIONS, "running")).toEqual(["pending", "running"]);
    expect(statesBefore(NODE_TRANSITIONS, "extant")).toEqual(["pending", "extant"]);
  });

  it("maps what a node knows to what it reports, and what it reports to what EC2 shows", () => {
    expect(reportedState("teardown", false, "running")).toBe("Teardown");
    expect(reportedState("pending", true, undefined)).toBe("Pending");
    expect(reportedState("extant", false, undefined)).toBe("Teardown");
    expect(reportedState("extant", false, "crashed")).toBe("Teardown");
    expect(reportedState("pending", false, "pending")).toBe("Pending");
    expect(reportedState("pending", false, "running")).toBe("Extant");
  });
});

describe("reconciling a recorded instance with its cluster's report", () => {
  // Every (recorded state, report) pair: what the CLC moves to, and what it does.
  const cases: Array<[string, string, string, string]> = [
    // recorded      report        next             what happens
    ["pending", "Pending", "pending", ""],
    ["pending", "Extant", "running", ""],
    ["pending", "Teardown", "terminated", "ended"],
    ["pending", "absent", "pending", ""],
    ["pending", "unreported", "pending", ""],
    ["running", "Pending", "running", ""],
    ["running", "Extant", "running", ""],
    ["running", "Teardown", "terminated", "ended"],
    ["running", "absent", "terminated", "ended"],
    ["running", "unreported", "running", ""],
    ["shutting-down", "Pending", "shutting-down", "retry"],
    ["shutting-down", "Extant", "shutting-down", "retry"],
    ["shutting-down", "Teardown", "shutting-down", "retry"],
    ["shutting-down", "absent", "shutting-down", "retry"],
    ["shutting-down", "unreported", "shutting-down", ""],
    ["terminated", "Extant", "terminated", ""],
    ["terminated", "unreported", "terminated", ""],
  ];
  it.each(cases)("%s with a report of %s → %s %s", (current, report, next, action) => {
    const r = reconcile(current as never, report as never);
    expect(r.next).toBe(next);
    expect(r.ended ? "ended" : r.retryTerminate ? "retry" : "").toBe(action);
    if (r.ended) expect(r.next).toBe("terminated");
  });

  it("covers every pair, and silence never ends or moves an instance", () => {
    for (const [state, row] of Object.entries(RECONCILE)) {
      expect(Object.keys(row).sort()).toEqual([...INSTANCE_REPORTS].sort());
      expect(row.unreported).toEqual({ next: state });
    }
  });

  it("says why an instance ended: the node's reason when it gave one, else that its node lost it", () => {
    expect(reconcile("running", "Teardown", "qemu exited").ended).toBe("Server.InternalError: qemu exited");
    expect(reconcile("running", "absent").ended).toMatch(/^Server\.InternalError: its node no longer runs it/);
    expect(reconcile("pending", "Teardown").ended).toMatch(/failed to start/);
  });
});
