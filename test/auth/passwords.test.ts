import { describe, expect, it } from "vitest";
import { hashPassword, passwordProblem, UNKNOWN_USER_HASH, verifyPassword } from "../../src/auth/passwords";

describe("password hashing (scrypt)", () => {
  it("verifies the password it hashed, and nothing else", async () => {
    const h = await hashPassword("correct horse");
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword("correct horse", h)).toBe(true);
    expect(await verifyPassword("correct horse ", h)).toBe(false);
    expect(await hashPassword("correct horse")).not.toBe(h); // salted
  });

  it("treats a unicode password by its normal form (what the keyboard sent may differ)", async () => {
    const h = await hashPassword("caf\u00e9-password");
    expect(await verifyPassword("cafe\u0301-password", h)).toBe(true);
  });

  it("matches nothing against a malformed hash or the unknown user's", async () => {
    for (const bad of ["", "scrypt$", "md5$x$y$z$a$b", "scrypt$32768$8$1$$"])
      expect(await verifyPassword("x", bad)).toBe(false);
    expect(await verifyPassword("", UNKNOWN_USER_HASH)).toBe(false);
  });

  it("says what is wrong with a weak password", () => {
    expect(passwordProblem("short", "u")).toContain("at least 8");
    expect(passwordProblem("Alice123", "alice123")).toContain("user name");
    expect(passwordProblem("x".repeat(257), "u")).toContain("at most 256");
    expect(passwordProblem("fine-password", "u")).toBeUndefined();
  });
});
