import { describe, expect, it } from "vitest";
import { ReplayCache } from "../../src/rpc/replay-cache";

describe("ReplayCache", () => {
  it("refuses a nonce until it expires, then forgets it", () => {
    const c = new ReplayCache();
    expect(c.remember("a", 1000, 0)).toBe(true);
    expect(c.remember("a", 1000, 500)).toBe(false);
    expect(c.remember("b", 2000, 500)).toBe(true);
    expect(c.remember("a", 3000, 1500)).toBe(true); // "a" expired at 1000
    expect(c.size).toBe(2);
  });

  it("fails closed when full", () => {
    const c = new ReplayCache(2);
    expect(c.remember("a", 10, 0)).toBe(true);
    expect(c.remember("b", 10, 0)).toBe(true);
    expect(c.remember("c", 10, 0)).toBe(false);
    expect(c.remember("c", 20, 11)).toBe(true);
  });
});
