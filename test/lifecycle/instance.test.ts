import { describe, expect, it } from "vitest";
import {
  INSTANCE_STATES, INSTANCE_TRANSITIONS, NODE_RECORD_STATES, NODE_TRANSITIONS, canMove, instanceStateFrom, reportedState, statesBefore,
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
    expect(instanceStateFrom("Extant", "pending")).toBe("running");
    expect(instanceStateFrom("Teardown", "running")).toBe("terminated");
    expect(instanceStateFrom(undefined, "pending")).toBe("pending");
    expect(instanceStateFrom(undefined, "running")).toBe("terminated");
  });
});
