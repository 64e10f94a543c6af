import { describe, expect, it } from "vitest";
import { createRateLimiter, createSigner, readCookies } from "../../../src/api/web/security";

describe("the web interface's signed tokens and limits", () => {
  const signer = createSigner(Buffer.alloc(32, 7));

  it("binds a CSRF token to its cookie and kind", () => {
    const t = signer.csrfToken("session", "abc");
    expect(signer.csrfValid("session", "abc", t)).toBe(true);
    expect(signer.csrfValid("session", "abd", t)).toBe(false);
    expect(signer.csrfValid("pre", "abc", t)).toBe(false);
    expect(signer.csrfValid("session", "abc", "")).toBe(false);
    expect(signer.csrfValid("session", "abc", undefined)).toBe(false);
    expect(createSigner(Buffer.alloc(32, 8)).csrfValid("session", "abc", t)).toBe(false);
  });

  it("reads back only the flash messages it signed", () => {
    const f = signer.flash("error", "<b>nope</b>");
    expect(signer.readFlash(f)).toEqual({ kind: "error", text: "<b>nope</b>" });
    const [body] = f.split(".");
    const forged = `${Buffer.from(JSON.stringify({ kind: "ok", text: "Call 555-0100 for support" })).toString("base64url")}.${f.split(".")[1]}`;
    expect(signer.readFlash(forged)).toBeUndefined();
    expect(signer.readFlash(`${body}.`)).toBeUndefined();
    expect(signer.readFlash("garbage")).toBeUndefined();
  });

  it("limits each key per window and keeps a bounded number of keys", () => {
    let now = 0;
    const l = createRateLimiter({ limit: 2, windowMs: 1000, maxKeys: 3, now: () => now });
    expect([l.take("a"), l.take("a"), l.take("a")]).toEqual([true, true, false]);
    now = 1000;
    expect(l.take("a")).toBe(true);
    for (const k of ["b", "c", "d", "e"]) l.take(k); // "a" is pushed out, so it starts afresh
    expect([l.take("a"), l.take("a")]).toEqual([true, true]);
  });

  it("parses cookie headers without trusting their shape", () => {
    expect([...readCookies("a=1; b=x=y; junk; =v")]).toEqual([
      ["a", "1"],
      ["b", "x=y"],
    ]);
    expect(readCookies(undefined).size).toBe(0);
  });
});
