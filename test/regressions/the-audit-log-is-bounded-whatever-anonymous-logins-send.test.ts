/**
 * Regression (issue 25, item 3): 60 failed logins with 900 KB user names added 54 MB
 * to clc.db and made the admin's audit page 58 MB. Now a name no user can have is
 * refused before any work and recorded by its length, every audited field is cut
 * when recorded, the log keeps at most WEB_AUDIT_MAX_ROWS entries, and a page cell
 * shows at most a line of a field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIELD_LIMITS } from "../../src/roles/clc/web/audit";
import { WebClient } from "../support/web-client";
import { adminClient, startWebCloud, type WebCloud } from "../support/web";

let w: WebCloud;
let admin: WebClient;
const MAX_ROWS = 20;
const from = (i: number) => new WebClient(w.url, w.t.cloud.layout.cloudCert, `127.0.0.${30 + (i % 8)}`);
const auditRows = (body: string) => (body.match(/<tr><td>/g) ?? []).length;

beforeAll(async () => {
  w = await startWebCloud({ settings: { webAuditMaxRows: MAX_ROWS } });
  admin = await adminClient(w);
}, 60_000);
afterAll(() => w.t.stop());

describe("the audit log", () => {
  it("records a 900 KB user name by its length, and answers without echoing it", async () => {
    const huge = "x".repeat(900_000);
    for (let i = 0; i < 6; i++) {
      const r = await from(i).login(`${huge}${i}`, "whatever-1");
      expect(r.status).toBe(403);
      expect(r.body.length).toBeLessThan(20_000);
    }
    const page = (await admin.get("/admin/audit")).body;
    expect(page.length).toBeLessThan(100_000);
    expect(page).toContain("not a user name (900001 characters)");
  });

  it("cuts every field when recorded, and the page shows at most a line of each", async () => {
    const long = "y".repeat(5000);
    const r = await from(1).post("/recover", { who: `${long}@example.org` }, "/recover");
    expect(r.status).toBe(200);
    const page = (await admin.get("/admin/audit")).body;
    const cell = /<td>(y+…)<\/td>/.exec(page)![1]!;
    expect(cell.length).toBeLessThanOrEqual(FIELD_LIMITS.actor);
  });

  it("keeps at most WEB_AUDIT_MAX_ROWS entries, dropping the oldest", async () => {
    for (let i = 0; i < 2 * MAX_ROWS; i++) expect((await from(i).login(`nobody-${i}`, "whatever-1")).status).toBe(403);
    const page = (await admin.get("/admin/audit")).body;
    expect(auditRows(page)).toBeLessThanOrEqual(MAX_ROWS);
    expect(page).toContain(`nobody-${2 * MAX_ROWS - 1}`);
    expect(page).not.toContain("nobody-0<");
  });
});
