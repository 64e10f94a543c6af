/**
 * Regression (issue 25, item 6): the lockout answered "Too many wrong passwords" only
 * for names that exist (telling which do), and five requests locked any user out for
 * 15 minutes, the admin included. Now locked, unknown and wrong get one answer,
 * unknown names are paused the same way, pauses grow from a second, and the right
 * password from an address the user logged in from before goes through.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../src/common/clock";
import { WebClient } from "../support/web-client";
import { ADMIN_NEW_PASSWORD, adminClient, startWebCloud, userWithPassword, type WebCloud } from "../support/web";

let w: WebCloud;
let admin: WebClient;
const clock: Clock = { now: () => new Date("2026-12-01T12:00:00Z") };
const from = (address?: string) => new WebClient(w.url, w.t.cloud.layout.cloudCert, address);
/** What a refused login tells: its status and its message. */
const answer = async (c: WebClient, name: string, password: string) => {
  const r = await c.login(name, password);
  return { status: r.status, flash: /class="flash error"[^>]*>([^<]*)</.exec(r.body)?.[1] };
};

beforeAll(async () => {
  w = await startWebCloud({ clock });
  admin = await adminClient(w);
  await userWithPassword(w, admin, "mona", "monas-password");
}, 60_000);
afterAll(() => w.t.stop());

describe("refused logins", () => {
  it("say the same for a wrong password, an unknown name and a paused login", async () => {
    const c = from("127.0.0.50");
    const wrong = await answer(c, "mona", "not-it-at-all");
    expect(wrong.status).toBe(403);
    expect(await answer(c, "no-such-user", "not-it-at-all")).toEqual(wrong);
    for (let i = 0; i < 5; i++) await answer(c, "mona", `wrong-${i}`);
    expect(await answer(c, "mona", "monas-password")).toEqual(wrong);
    for (let i = 0; i < 5; i++) await answer(c, "ghost", `wrong-${i}`);
    expect(await answer(c, "ghost", "anything-at-all")).toEqual(wrong);
    const audit = (await admin.get("/admin/audit")).body;
    expect(audit).toMatch(/mona<\/td><td>login-refused-paused/);
    expect(audit).toMatch(/ghost<\/td><td>login-refused-paused/);
  });

  it("from elsewhere cannot keep the admin out", async () => {
    const attacker = from("127.0.0.51");
    for (let i = 0; i < 12; i++) expect((await attacker.login("admin", `guess-${i}`)).status).toBe(403);
    expect((await from().login("admin", ADMIN_NEW_PASSWORD)).location).toBe("/");
    // …and a pause never outlives the longest one set (WEB_LOCKOUT_MINUTES).
    const later = new Date(clock.now().getTime() + 15 * 60_000 + 1000);
    clock.now = () => later;
    expect((await from("127.0.0.52").login("admin", ADMIN_NEW_PASSWORD)).location).toBe("/");
  });
});
