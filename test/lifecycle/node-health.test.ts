import { describe, expect, it } from "vitest";
import {
  healthAfter,
  NODE_HEALTH_STATES,
  NODE_HEALTH_TRANSITIONS,
  placeable,
  type NodeHealth,
} from "../../src/lifecycle/node-health";
import { canMove } from "../../src/lifecycle/instance";

const DOWN = 60_000;

describe("a node's health from its polls", () => {
  // [before, answered, ms after the last contact, after]
  const cases: Array<[NodeHealth | undefined, boolean, number, string]> = [
    [undefined, true, 0, "up"],
    [undefined, false, 0, "suspect"],
    [{ state: "up", since: 0, lastContact: 0 }, true, 5_000, "up"],
    [{ state: "up", since: 0, lastContact: 0 }, false, 5_000, "suspect"],
    [{ state: "suspect", since: 5_000, lastContact: 0 }, false, 59_999, "suspect"],
    [{ state: "suspect", since: 5_000, lastContact: 0 }, false, 60_000, "down"],
    [{ state: "suspect", since: 5_000, lastContact: 0 }, true, 30_000, "up"],
    [{ state: "down", since: 60_000, lastContact: 0 }, false, 600_000, "down"],
    [{ state: "down", since: 60_000, lastContact: 0 }, true, 600_000, "up"],
    [{ state: "fenced", since: 60_000, lastContact: 0 }, false, 600_000, "fenced"],
    [{ state: "fenced", since: 60_000, lastContact: 0 }, true, 600_000, "up"],
    // Never heard since registration: down once silent for the threshold from when it was first found silent.
    [{ state: "suspect", since: 1_000 }, false, 61_000, "down"],
    [{ state: "suspect", since: 1_000 }, false, 60_999, "suspect"],
  ];
  it.each(cases)("%j, answered %s at %i ms → %s", (before, answered, now, after) => {
    const h = healthAfter(before, answered, now, DOWN);
    expect(h.state).toBe(after);
    if (before && h.state !== before.state) expect(canMove(NODE_HEALTH_TRANSITIONS, before.state, h.state)).toBe(true);
    if (answered) expect(h.lastContact).toBe(now);
    else expect(h.lastContact).toBe(before?.lastContact);
  });

  it("keeps `since` while the state holds, and only an up node takes new instances", () => {
    expect(healthAfter({ state: "up", since: 10, lastContact: 10 }, true, 20, DOWN)).toEqual({
      state: "up",
      since: 10,
      lastContact: 20,
    });
    expect(healthAfter({ state: "suspect", since: 10, lastContact: 0 }, false, 20, DOWN).since).toBe(10);
    expect(NODE_HEALTH_STATES.filter(placeable)).toEqual(["up"]);
  });
});
