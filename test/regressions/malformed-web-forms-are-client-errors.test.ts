/**
 * Regression (issue 25, item 10): a malformed multipart form sent to the web interface
 * was a 500. Now a form that cannot be read is a 400 with the form's message, before
 * or after login, whichever page it was sent to.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNREADABLE_FORM } from "../../src/api/web/routing";
import { WebClient } from "../support/web-client";
import { adminClient, startWebCloud, type WebCloud } from "../support/web";

let w: WebCloud;
let admin: WebClient;

beforeAll(async () => {
  w = await startWebCloud();
  admin = await adminClient(w);
}, 60_000);
afterAll(() => w.t.stop());

const BODIES: Array<[string, string]> = [
  ["multipart/form-data; boundary=xyz", "this is not multipart"],
  ["multipart/form-data; boundary=xyz", '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end'],
  ["multipart/form-data", "--\r\n\r\n"],
  ["multipart/form-data; boundary=", "----\r\n"],
];

describe("an unreadable form", () => {
  it("is a 400 with the form's message, anonymous or signed in", async () => {
    for (const c of [new WebClient(w.url, w.t.cloud.layout.cloudCert), admin]) {
      await c.csrf(c === admin ? "/" : "/login");
      for (const [type, body] of BODIES) {
        for (const path of ["/login", "/apply", "/key-pairs/create", "/admin/users/add"]) {
          const r = await c.request("POST", path, { body, headers: { "content-type": type } });
          expect([path, type, r.status]).toEqual([path, type, 400]);
          expect(r.body).toContain(UNREADABLE_FORM.split(":")[0]);
        }
      }
    }
    expect((await admin.get("/admin/users")).status).toBe(200);
  });
});
