/** The request tgtd reads (tgt 1.0.85's struct tgtadm_req on x86-64); the real daemon is spoken to in test/regressions/no-secret-on-any-command-line.test.ts. */
import { describe, expect, it } from "vitest";
import { encodeTgtRequest } from "../../../src/roles/sc/tgt-admin";

describe("tgtd management requests", () => {
  it("lay the header out as tgtadm does, then the parameters NUL-terminated", () => {
    const b = encodeTgtRequest({ mode: "account", op: "new", params: { user: "i-1", password: "s3cret" } });
    expect(b.readUInt32LE(0)).toBe(7); // MODE_ACCOUNT
    expect(b.readUInt32LE(4)).toBe(0); // OP_NEW
    expect(b.subarray(8, 13).toString()).toBe("iscsi");
    expect(b.readUInt32LE(72)).toBe(b.length);
    expect(b.readInt32LE(76)).toBe(-1); // no target
    expect(b.readBigUInt64LE(88)).toBe(0xffff_ffff_ffff_ffffn); // no LUN
    expect(b.subarray(120).toString()).toBe("user=i-1,password=s3cret\0");
  });

  it("a target's delete carries its id and force; a bare show has no parameters", () => {
    const del = encodeTgtRequest({ mode: "target", op: "delete", tid: 3, force: true });
    expect([del.readUInt32LE(0), del.readUInt32LE(4), del.readInt32LE(76), del.readUInt32LE(116), del.length]).toEqual([
      1, 1, 3, 1, 120,
    ]);
  });

  it("refuses a value that would split the parameter list", () => {
    expect(() => encodeTgtRequest({ mode: "account", op: "new", params: { user: "a,password=x" } })).toThrow(/','/);
  });
});
