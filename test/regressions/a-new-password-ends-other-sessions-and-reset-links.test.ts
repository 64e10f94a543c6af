/**
 * Regression (issue 25, item 4): a password change kept the user's other sessions and
 * earlier reset links alive, so whoever had stolen either kept the account. Now every
 * new password (changed, reset, or set by the admin) ends them all; the browser that
 * changed it gets a new session.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebClient } from "../support/web-client";
import { adminClient, startWebCloud, userWithPassword, type WebCloud } from "../support/web";

let w: WebCloud;
let admin: WebClient;
const client = () => new WebClient(w.url, w.t.cloud.layout.cloudCert);
const signedIn = async (c: WebClient) => (await c.get("/instances")).status === 200;

/** Asks for a reset link by mail and returns its code (from the admin's outbox, newest first). */
async function resetCode(name: string): Promise<string> {
  await client().post("/recover", { who: name }, "/recover");
  return /reset\?code=([\w-]+)/.exec((await admin.get("/admin/outbox")).body)![1]!;
}

beforeAll(async () => {
  w = await startWebCloud();
  admin = await adminClient(w);
}, 60_000);
afterAll(() => w.t.stop());

describe("a new password", () => {
  it("changed: the other sessions and earlier reset links end; this browser stays signed in", async () => {
    const laptop = await userWithPassword(w, admin, "lena", "lenas-password");
    const phone = client();
    expect((await phone.login("lena", "lenas-password")).location).toBe("/");
    const stolen = await resetCode("lena");
    const oldCookie = laptop.cookies.get("__Host-euca_session")!;
    const r = await laptop.post(
      "/password",
      { current: "lenas-password", password: "lenas-new-password", password2: "lenas-new-password" },
      "/password",
    );
    expect(r.location).toBe("/");
    expect(laptop.cookies.get("__Host-euca_session")).not.toBe(oldCookie);
    expect(await signedIn(laptop)).toBe(true);
    expect(await signedIn(phone)).toBe(false);
    const replay = client();
    replay.cookies.set("__Host-euca_session", oldCookie);
    expect(await signedIn(replay)).toBe(false);
    const used = await client().post(
      "/reset",
      { code: stolen, password: "attacker-password", password2: "attacker-password" },
      `/reset?code=${stolen}`,
    );
    expect(used.status).toBe(400);
    expect((await client().login("lena", "lenas-new-password")).location).toBe("/");
  });

  it("reset from a mailed link: every session and every other link ends", async () => {
    const c = await userWithPassword(w, admin, "lars", "lars-password-1");
    const first = await resetCode("lars");
    const second = await resetCode("lars");
    const r = await client().post(
      "/reset",
      { code: second, password: "lars-password-2", password2: "lars-password-2" },
      `/reset?code=${second}`,
    );
    expect(r.location).toBe("/login");
    expect(await signedIn(c)).toBe(false);
    expect(
      (
        await client().post(
          "/reset",
          { code: first, password: "lars-password-3", password2: "lars-password-3" },
          `/reset?code=${first}`,
        )
      ).status,
    ).toBe(400);
  });
});
