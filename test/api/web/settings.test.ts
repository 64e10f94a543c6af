/** The admin's settings page: values checked as at start, written to the config file, the rest of it kept. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveSettings } from "../../../src/config/resolve";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { tempDir } from "../../support/cloud";
import { s3 } from "../../support/s3";
import { WebClient } from "../../support/web-client";
import { adminClient, startWebCloud, type WebCloud } from "../../support/web";

describe("web interface: cloud settings", () => {
  const file = join(tempDir("web-conf-"), "euca.conf");
  let w: WebCloud;
  let admin: WebClient;
  beforeAll(async () => {
    writeFileSync(
      file,
      "# the site's settings\nWALRUS_MAX_BUCKETS=5   # per user\nSMTP_URL=smtp://mailer:s3cret@127.0.0.1:2525\n",
      { mode: 0o640 },
    );
    w = await startWebCloud({ configFile: file, settings: { smtpUrl: "smtp://mailer:s3cret@127.0.0.1:2525" } });
    admin = await adminClient(w);
  }, 60_000);
  afterAll(async () => {
    await w?.t.stop();
  });

  it("shows every setting, an SMTP password masked", async () => {
    const page = (await admin.get("/admin/settings")).body;
    for (const key of ["WALRUS_MAX_BUCKETS", "WEB_PORT", "VNET_MODE", "SC_MAX_VOLUME_GB"]) expect(page).toContain(key);
    expect(page).toContain("smtp://mailer:********@127.0.0.1:2525");
    expect(page).not.toContain("s3cret");
  });

  it("changes a setting in the file, keeping the other lines; the next start reads it", async () => {
    const r = await admin.post("/admin/settings", { key: "walrusMaxBuckets", value: "9" }, "/admin/settings");
    expect(r.location).toBe("/admin/settings");
    expect((await admin.get("/admin/settings")).body).toContain("Saved walrusMaxBuckets; it is in force now");
    expect(readFileSync(file, "utf8")).toBe(
      "# the site's settings\nWALRUS_MAX_BUCKETS=9\nSMTP_URL=smtp://mailer:s3cret@127.0.0.1:2525\n",
    );
    await admin.post("/admin/settings", { key: "scMaxVolumeGb", value: "20" }, "/admin/settings");
    expect(resolveSettings({ flags: { config: file }, env: {} })).toMatchObject({
      walrusMaxBuckets: 9,
      scMaxVolumeGb: 20,
    });
    expect((await admin.get("/admin/audit")).body).toContain("set-setting");
    // The cache size is read once, at start.
    await admin.post("/admin/settings", { key: "walrusImageCacheMb", value: "2048" }, "/admin/settings");
    expect((await admin.get("/admin/settings")).body).toContain(
      "Saved walrusImageCacheMb; it applies from the next start",
    );
  });

  it("puts a Walrus quota in force at once", async () => {
    const user = await w.t.createUser("olga");
    const c = s3(w.t, user);
    await admin.post("/admin/settings", { key: "walrusMaxBuckets", value: "1" }, "/admin/settings");
    await c.send(new CreateBucketCommand({ Bucket: "olga-one" }));
    await expect(c.send(new CreateBucketCommand({ Bucket: "olga-two" }))).rejects.toMatchObject({
      name: "TooManyBuckets",
    });
    await admin.post("/admin/settings", { key: "walrusMaxBuckets", value: "3" }, "/admin/settings");
    await c.send(new CreateBucketCommand({ Bucket: "olga-two" }));
    expect(readFileSync(file, "utf8")).toContain("WALRUS_MAX_BUCKETS=3\n");
  });

  it("refuses a value the command line would refuse, and settings that are not the page's to change", async () => {
    const before = readFileSync(file, "utf8");
    await admin.post("/admin/settings", { key: "walrusMaxBuckets", value: "lots" }, "/admin/settings");
    expect((await admin.get("/admin/settings")).body).toContain("is not a non-negative integer");
    await admin.post("/admin/settings", { key: "webSignupFields", value: "telephone,shoe-size" }, "/admin/settings");
    expect((await admin.get("/admin/settings")).body).toContain("unknown sign-up field &#39;shoe-size&#39;");
    await admin.post("/admin/settings", { key: "dataDir", value: "/tmp/elsewhere" }, "/admin/settings");
    expect((await admin.get("/admin/settings")).body).toContain("dataDir cannot be changed while the cloud runs");
    await admin.post("/admin/settings", { key: "mailFrom", value: 'a"b\nc' }, "/admin/settings");
    expect(readFileSync(file, "utf8")).toBe(before);
  });
});
