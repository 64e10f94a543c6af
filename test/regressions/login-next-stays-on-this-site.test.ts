/**
 * Regression (issue 25, item 7): the login's `next` accepted `/%09/evil.example/` (a
 * tab, which browsers drop, making `//evil.example/`), and CR, LF, NUL, VT or FF gave a
 * 500 after a correct password (an invalid Location header). Now only a same-origin
 * path without control characters or backslashes is followed, else `/`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebClient } from "../support/web-client";
import { adminClient, startWebCloud, userWithPassword, type WebCloud } from "../support/web";

let w: WebCloud;
let admin: WebClient;

beforeAll(async () => {
  w = await startWebCloud();
  admin = await adminClient(w);
  await userWithPassword(w, admin, "nell", "nells-password");
}, 60_000);
afterAll(() => w.t.stop());

const HOSTILE = [
  "/\t/evil.example/",
  "/\n/evil.example/",
  "//evil.example/",
  "/\\evil.example/",
  "\\\\evil.example",
  "https://evil.example/",
  "/\r\nSet-Cookie: x=1",
  "/a\u0000b",
  "/a\u000bb",
  "/a\u000cb",
  "/\u007f/evil.example",
  " //evil.example",
  "javascript:alert(1)",
];

describe("the login's next", () => {
  it("goes only to a path of this site; anything else goes to /", async () => {
    for (const next of HOSTILE) {
      const c = new WebClient(w.url, w.t.cloud.layout.cloudCert);
      const r = await c.request("POST", "/login", {
        form: { _csrf: await c.csrf("/login"), userName: "nell", password: "nells-password", next },
      });
      expect([JSON.stringify(next), r.status, r.location]).toEqual([JSON.stringify(next), 303, "/"]);
    }
  });

  it("keeps a path of this site, with its query, written as the URL parser writes it", async () => {
    for (const [next, want] of [
      ["/instances", "/instances"],
      ["/buckets?prefix=a b", "/buckets?prefix=a%20b"],
      ["/é", "/%C3%A9"],
    ]) {
      const c = new WebClient(w.url, w.t.cloud.layout.cloudCert);
      const r = await c.request("POST", "/login", {
        form: { _csrf: await c.csrf("/login"), userName: "nell", password: "nells-password", next: next! },
      });
      expect(r.location).toBe(want);
    }
  });

  it("the login page's hidden field never carries a hostile next", async () => {
    const c = new WebClient(w.url, w.t.cloud.layout.cloudCert);
    const r = await c.get(`/login?next=${encodeURIComponent("/\t/evil.example/")}`);
    expect(r.body).toContain('name="next" value="/"');
  });
});
