import { describe, expect, it } from "vitest";
import {
  afterFailure,
  createInFlight,
  createUnknownNameCounts,
  pauseAfter,
} from "../../../../src/roles/clc/web/login-throttle";

const policy = { freeAttempts: 5, maxPauseMs: 15 * 60_000 };

describe("login pauses", () => {
  it("are free for the first attempts, then 1 s doubling after each, never past the longest", () => {
    expect([1, 2, 3, 4].map((n) => pauseAfter(n, policy))).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8].map((n) => pauseAfter(n, policy))).toEqual([1000, 2000, 4000, 8000]);
    expect(pauseAfter(15, policy)).toBe(15 * 60_000);
    expect(pauseAfter(10_000, policy)).toBe(15 * 60_000);
  });

  it("each failure counts once and sets the pause from now", () => {
    const t = new Date("2026-12-01T00:00:00Z");
    let s = { failures: 0, pausedUntil: null as Date | null };
    for (let i = 0; i < 5; i++) s = afterFailure(s, t, policy);
    expect(s).toEqual({ failures: 5, pausedUntil: new Date(t.getTime() + 1000) });
  });

  it("names that are no user's are remembered in bounded memory, the least recently tried forgotten", () => {
    const names = createUnknownNameCounts(3);
    for (const n of ["a", "b", "c"]) names.set(n, { failures: 1, pausedUntil: null });
    names.set("a", { failures: 2, pausedUntil: null }); // tried again: now the most recent
    names.set("d", { failures: 1, pausedUntil: null });
    expect(names.size).toBe(3);
    expect(names.get("b").failures).toBe(0);
    expect(names.get("a").failures).toBe(2);
  });

  it("one check per name at a time", () => {
    const f = createInFlight();
    expect(f.enter("x")).toBe(true);
    expect(f.enter("x")).toBe(false);
    expect(f.enter("y")).toBe(true);
    f.leave("x");
    expect(f.enter("x")).toBe(true);
  });
});
