/**
 * The web interface's readers under random input (fast-check, fixed seeds, bounded):
 * the login's `next` (only ever a path of this site) and the forms of every page that
 * takes one, urlencoded and multipart, well-formed or not, anonymous and signed in.
 * No answer is a 5xx and the interface keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { localPath } from "../../src/api/web/routing";
import { WebClient } from "../support/web-client";
import { adminClient, startWebCloud, type WebCloud } from "../support/web";

const RUNS = { seed: 20261207, numRuns: 400 };
const ORIGIN = "https://cloud.example:8443";

describe("the login's next", () => {
  const piece = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom(
      "/",
      "//",
      "\\",
      "\t",
      "\n",
      "\r",
      "\u0000",
      "\u000b",
      "\u000c",
      "\u007f",
      "%09",
      "%2f",
      ":",
      "@",
      "?",
      "#",
      "..",
      "evil.example",
      "https:",
      "javascript:",
      "é",
      "\u2028",
    ),
  );
  it("is a same-origin path without control characters or backslashes, or /", () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 8 }).map((a) => a.join("")),
        (next) => {
          const p = localPath(next);
          expect(p.startsWith("/")).toBe(true);
          expect(p.startsWith("//")).toBe(false);
          expect(p).not.toMatch(/[\u0000-\u001f\u007f-\uffff\\]/);
          expect(new URL(p, ORIGIN).origin).toBe(ORIGIN);
          expect(localPath(p)).toBe(p);
        },
      ),
      RUNS,
    );
  });
});

describe("web forms under random bodies", () => {
  let w: WebCloud;
  let admin: WebClient;
  let anon: WebClient;
  beforeAll(async () => {
    w = await startWebCloud({ settings: { webAuditMaxRows: 1000 } });
    admin = await adminClient(w);
    anon = new WebClient(w.url, w.t.cloud.layout.cloudCert);
  }, 60_000);
  afterAll(() => w?.t.stop());

  const field = fc.constantFrom(
    "userName",
    "password",
    "password2",
    "fullName",
    "email",
    "next",
    "code",
    "who",
    "current",
    "name",
    "type",
    "user",
    "action",
    "isAdmin",
    "_csrf",
  );
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom("", "admin", "eucalyptus", "/\t/evil", "%", "\r\n", "é"),
  );
  const multipart = (pairs: Array<[string, string]>, boundary: string, broken: number) => {
    const parts = pairs
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join("");
    const whole = `${parts}--${boundary}--\r\n`;
    return broken ? whole.slice(0, Math.max(0, whole.length - broken)) : whole;
  };

  it("are answered below 500, anonymous and signed in", async () => {
    const anonToken = await anon.csrf("/login");
    const adminToken = await admin.csrf("/");
    const paths = [
      "/login",
      "/apply",
      "/recover",
      "/reset",
      "/confirm",
      "/password",
      "/key-pairs/create",
      "/admin/users/add",
      "/admin/users/action",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.boolean(),
        fc.array(fc.tuple(field, value), { maxLength: 6 }),
        fc.boolean(),
        fc.string({ minLength: 0, maxLength: 8 }),
        fc.nat(40),
        async (path, signedIn, pairs, asMultipart, boundary, broken) => {
          const c = signedIn ? admin : anon;
          const all: Array<[string, string]> = [["_csrf", signedIn ? adminToken : anonToken], ...pairs];
          const r = asMultipart
            ? await c.request("POST", path, {
                body: multipart(all, boundary, broken),
                headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
              })
            : await c.request("POST", path, {
                body: new URLSearchParams(all).toString(),
                headers: { "content-type": "application/x-www-form-urlencoded" },
              });
          expect(r.status, `${path} ${JSON.stringify(pairs)}`).toBeLessThan(500);
        },
      ),
      { seed: 20261207, numRuns: 250 },
    );
    expect((await admin.get("/admin/users")).status).toBe(200);
  }, 300_000);
});
