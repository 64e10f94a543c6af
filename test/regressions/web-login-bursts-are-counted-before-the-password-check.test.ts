/**
 * Regression (issue 25, item 2): 29 wrong passwords sent at once, then the right one,
 * logged in: each login read the count, awaited scrypt, and wrote the stale count + 1.
 * Now an attempt is counted before its password is checked, one check per name at a
 * time. With it, every counter the web interface keeps is tried with concurrent
 * bursts: the per-user pause, the per-address limits of logins and of sign-ups, the
 * sessions a user keeps.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../src/common/clock";
import { LOGIN_REFUSED, MAX_SESSIONS_PER_USER } from "../../src/roles/clc/web/web-logins";
import { WebClient } from "../support/web-client";
import { adminClient, applyForAccount, startWebCloud, userWithPassword, type WebCloud } from "../support/web";

let w: WebCloud;
let admin: WebClient;
/** Held still: a pause lasts until the test moves the clock. */
const clock: Clock = { now: () => new Date("2026-12-01T12:00:00Z") };
const from = (address: string) => new WebClient(w.url, w.t.cloud.layout.cloudCert, address);

beforeAll(async () => {
  w = await startWebCloud({ clock });
  admin = await adminClient(w);
}, 60_000);
afterAll(() => w.t.stop());

describe("concurrent bursts at every counter of the web interface", () => {
  it("29 wrong passwords at once, then the right one, from a new address: refused", async () => {
    await userWithPassword(w, admin, "jill", "jills-password");
    const burst = await Promise.all(
      Array.from({ length: 29 }, (_, i) => from("127.0.0.21").login("jill", `wrong-${i}`)),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(29).fill(403));
    for (const r of burst) expect(r.body).toContain(LOGIN_REFUSED);
    const away = from("127.0.0.21");
    const right = await away.login("jill", "jills-password");
    expect(right.status).toBe(403);
    expect(away.cookies.has("__Host-euca_session")).toBe(false);
    const audit = (await admin.get("/admin/audit")).body;
    expect(audit).toContain("login-refused-paused");
  });

  it("the right password sent many times at once logs in at most once per check, never with a 5xx", async () => {
    await userWithPassword(w, admin, "joan", "joans-password", "127.0.0.23");
    const tries = await Promise.all(
      Array.from({ length: 12 }, () => from("127.0.0.23").login("joan", "joans-password")),
    );
    for (const r of tries) expect([303, 403]).toContain(r.status);
    expect(tries.some((r) => r.location === "/")).toBe(true);
  });

  it("the per-address limit lets exactly 30 of 40 concurrent attempts through", async () => {
    const tries = await Promise.all(
      Array.from({ length: 40 }, (_, i) => from("127.0.0.22").login(`nobody-${i}`, "whatever-1")),
    );
    expect(tries.filter((r) => r.status === 429)).toHaveLength(10);
    expect(tries.filter((r) => r.status === 403)).toHaveLength(30);
  });

  it("the per-address limit of applications and reset mails lets exactly 10 of 14 concurrent ones through", async () => {
    const tries = await Promise.all(
      Array.from({ length: 14 }, (_, i) => applyForAccount(from("127.0.0.25"), `burst-${i}`)),
    );
    expect(tries.filter((r) => r.status === 429)).toHaveLength(4);
    expect(tries.filter((r) => r.status === 200)).toHaveLength(10);
  });

  it("a user keeps at most MAX_SESSIONS_PER_USER sessions: the oldest end first", async () => {
    const first = await userWithPassword(w, admin, "jeff", "jeffs-password", "127.0.0.24");
    expect((await first.get("/instances")).status).toBe(200);
    const later: WebClient[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_USER; i++) {
      const c = from("127.0.0.24");
      expect((await c.login("jeff", "jeffs-password")).location).toBe("/");
      later.push(c);
    }
    expect((await first.get("/instances")).location).toBe("/login?next=%2Finstances");
    for (const c of later) expect((await c.get("/instances")).status).toBe(200);
  });
});
