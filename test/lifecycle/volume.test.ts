import { describe, expect, it } from "vitest";
import { volumeStateFrom } from "../../src/lifecycle/volume";

describe("a volume's state from what its SC holds", () => {
  it("follows the SC; an attachment makes an available volume in-use; a volume the SC lost is in error", () => {
    expect(volumeStateFrom("available", "creating", false)).toBe("available");
    expect(volumeStateFrom("error", "creating", false)).toBe("error");
    expect(volumeStateFrom("available", "available", true)).toBe("in-use");
    expect(volumeStateFrom("available", "in-use", false)).toBe("available");
    expect(volumeStateFrom(undefined, "available", false)).toBe("error");
    expect(volumeStateFrom(undefined, "creating", false)).toBe("creating"); // not yet known there: the caller decides when it is lost
  });

  it("a volume being deleted is deleted once its SC has nothing of it", () => {
    expect(volumeStateFrom("deleting", "deleting", false)).toBe("deleting");
    expect(volumeStateFrom(undefined, "deleting", false)).toBe("deleted");
    expect(volumeStateFrom("error", "deleting", false)).toBe("error");
    expect(volumeStateFrom(undefined, "deleted", false)).toBe("deleted");
  });
});
