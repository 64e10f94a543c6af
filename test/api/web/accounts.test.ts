/**
 * The web interface's accounts in Debian's Chromium: apply → the admin approves →
 * the confirmation link from the outbox → log in → the credentials zip, whose eucarc
 * works with Debian's awscli; the admin's forced first password change; recovery.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../support/exec";
import { tempDir } from "../../support/cloud";
import { canBrowse, expectAccessible, launchBrowser, newContext, screenshot } from "../../support/browser";
import {
  ADMIN_NEW_PASSWORD,
  firstAdminLogin,
  flash,
  login,
  startWebCloud,
  visit,
  type WebCloud,
} from "../../support/web";

const AWS = "/usr/bin/aws";
const PY = "/usr/bin/python3";

describe.runIf(canBrowse)("web interface: accounts", () => {
  let w: WebCloud;
  let browser: Browser;
  beforeAll(async () => {
    w = await startWebCloud();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await w?.t.stop();
  });

  it("keeps the admin's first password 0600 until the first login replaces it", async () => {
    const file = w.t.cloud.web!.passwordFile;
    expect(readFileSync(file, "utf8").trim()).toBe(w.adminPassword);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const ctx = await newContext(browser, w.url);
    const page = await ctx.newPage();
    // Until the password is changed, every page leads to the change form.
    await login(page, "admin", w.adminPassword);
    await page.goto("/instances");
    expect(new URL(page.url()).pathname).toBe("/password");
    await visit(page, "/password", "password-forced");
    await ctx.close();
  });

  it("apply, approve, confirm from the mailed link, log in, download credentials that work with awscli", async () => {
    const anon = await (await newContext(browser, w.url)).newPage();
    await visit(anon, "/apply", "apply");
    await anon.getByLabel("User name").fill("carol");
    await anon.getByLabel("Password", { exact: true }).fill("carols-secret-1");
    await anon.getByLabel("Password again").fill("carols-secret-1");
    await anon.getByLabel("Full name").fill("Carol Q. Researcher");
    await anon.getByLabel("E-mail address").fill("carol@example.org");
    await anon.getByLabel("Affiliation").fill("Physics <Lab> & Co");
    await anon.getByRole("button", { name: "Apply" }).click();
    expect(await flash(anon)).toContain("your application was sent");

    const admin = await (await newContext(browser, w.url)).newPage();
    await firstAdminLogin(admin, w);
    await visit(admin, "/admin/applications", "admin-applications");
    const row = admin.getByRole("row", { name: /carol/ });
    await expect.poll(() => row.textContent()).toContain("Physics <Lab> & Co");
    await row.getByRole("button", { name: "Approve carol" }).click();
    expect(await flash(admin)).toContain("Approved");

    await visit(admin, "/admin/outbox", "admin-outbox");
    const mail = admin.getByRole("article", { name: /Mail to carol@example.org: \[euca\] your account was approved/ });
    const link = /https:\/\/\S+\/confirm\?code=\S+/.exec(await mail.locator("textarea").inputValue())![0];
    expect(new URL(link).origin).toBe(w.url);

    // A scanner following the link confirms nothing: the page asks.
    await anon.goto(link);
    await expectAccessible(anon);
    await screenshot(anon, "confirm");
    await anon.getByRole("button", { name: "Confirm my account" }).click();
    expect(await flash(anon)).toContain("Your account 'carol' is ready");
    await anon.getByLabel("User name").fill("carol");
    await anon.getByLabel("Password").fill("carols-secret-1");
    await anon.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => new URL(anon.url()).pathname).toBe("/credentials");
    await visit(anon, "/credentials", "credentials");

    const [download] = await Promise.all([
      anon.waitForEvent("download"),
      anon.getByRole("button", { name: "Download credentials" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("euca2-carol-x509.zip");
    const dir = tempDir("web-creds-");
    const zip = join(dir, "creds.zip");
    await download.saveAs(zip);
    const unzip = await run(PY, [
      "-c",
      "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2]); print('\\n'.join(sorted(z.namelist())))",
      zip,
      dir,
    ]);
    expect(unzip.status, unzip.stderr).toBe(0);
    const names = unzip.stdout.trim().split("\n");
    expect(names).toEqual(expect.arrayContaining(["eucarc", "cloud-cert.pem", "aws-credentials", "aws-config"]));
    expect(names.filter((n) => /^euca2-carol-[0-9a-f]{8}-(pk|cert)\.pem$/.test(n))).toHaveLength(2);
    const aws = await run("bash", [
      "-c",
      `source ${dir}/eucarc && ${AWS} --endpoint-url "$EC2_URL" ec2 describe-availability-zones --output json`,
    ]);
    expect(aws.status, aws.stderr).toBe(0);
    expect(JSON.parse(aws.stdout).AvailabilityZones.map((z: { ZoneName: string }) => z.ZoneName)).toEqual(["cluster1"]);

    // A second download is a new key pair and certificate.
    const [again] = await Promise.all([
      anon.waitForEvent("download"),
      anon.getByRole("button", { name: "Download credentials" }).click(),
    ]);
    const zip2 = join(dir, "again.zip");
    await again.saveAs(zip2);
    const names2 = (
      await run(PY, ["-c", "import sys,zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))", zip2])
    ).stdout
      .trim()
      .split("\n");
    expect(names2.find((n) => n.endsWith("-pk.pem"))).not.toBe(names.find((n) => n.endsWith("-pk.pem")));

    // The audit log has the story, without a secret in it.
    await visit(admin, "/admin/audit", "admin-audit");
    const audit = await admin.locator("table").textContent();
    for (const a of ["apply", "approve-application", "confirm-account", "login", "download-credentials"])
      expect(audit).toContain(a);
    expect(audit).not.toContain("carols-secret-1");
  }, 120_000);

  it("a rejected application is told why, and its name may be asked for again", async () => {
    const anon = await (await newContext(browser, w.url)).newPage();
    await anon.goto("/apply");
    await anon.getByLabel("User name").fill("dave");
    await anon.getByLabel("Password", { exact: true }).fill("daves-secret-1");
    await anon.getByLabel("Password again").fill("daves-secret-2");
    await anon.getByLabel("Full name").fill("Dave");
    await anon.getByLabel("E-mail address").fill("dave@example.org");
    await anon.getByRole("button", { name: "Apply" }).click();
    expect(await flash(anon)).toContain("The two passwords differ");
    // What was typed is kept, except the passwords.
    expect(await anon.getByLabel("Full name").inputValue()).toBe("Dave");
    await anon.getByLabel("Password", { exact: true }).fill("daves-secret-1");
    await anon.getByLabel("Password again").fill("daves-secret-1");
    await anon.getByRole("button", { name: "Apply" }).click();
    expect(await flash(anon)).toContain("sent");

    const admin = await (await newContext(browser, w.url)).newPage();
    await login(admin, "admin", ADMIN_NEW_PASSWORD);
    await admin.goto("/admin/applications");
    const row = admin.getByRole("row", { name: /dave/ });
    await row.getByLabel("Reason for rejecting dave").fill("not a member of the project");
    await row.getByRole("button", { name: "Reject" }).click();
    expect(await flash(admin)).toContain("Rejected");
    await admin.goto("/admin/outbox");
    expect((await admin.locator("article").allTextContents()).join("\n")).toContain("[euca] your account application");
    expect(await admin.getByRole("textbox", { name: "Message to dave@example.org" }).first().inputValue()).toContain(
      "not a member of the project",
    );
  }, 60_000);

  it("works with the keyboard alone: every control of a page is reached by Tab, and a login is typed and sent", async () => {
    const page = await (await newContext(browser, w.url)).newPage();
    /** The controls Tab reaches, in order, until focus comes round again. */
    const tabStops = async () => {
      const seen: string[] = [];
      for (let i = 0; i < 200; i++) {
        await page.keyboard.press("Tab");
        const id = (await page.evaluate(
          "(() => { const e = document.activeElement; return e && e !== document.body ? (e.id || e.getAttribute('name') || e.textContent.trim()) + '|' + e.tagName : '' })()",
        )) as string;
        if (id && seen.includes(id)) break;
        if (id) seen.push(id);
      }
      return seen;
    };
    const controls = () =>
      page.evaluate(
        `[...document.querySelectorAll("main input:not([type=hidden]), main select, main textarea, main button")].map((e) => (e.id || e.getAttribute("name") || e.textContent.trim()) + "|" + e.tagName)`,
      ) as Promise<string[]>;
    for (const path of ["/apply", "/recover", "/login"]) {
      await page.goto(path);
      const stops = await tabStops();
      for (const c of await controls()) expect(stops, `${path}: ${c}`).toContain(c);
    }
    await page.goto("/login");
    // From the user name field (the Tab order that reaches it is checked above), keys only.
    await page.locator("input[name=userName]").focus();
    await page.keyboard.type("carol");
    await page.keyboard.press("Tab");
    await page.keyboard.type("carols-secret-1");
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.pathname === "/");
    for (const path of ["/instances", "/key-pairs", "/security-groups", "/credentials"]) {
      await page.goto(path);
      const stops = await tabStops();
      for (const c of await controls()) expect(stops, `${path}: ${c}`).toContain(c);
    }
  }, 60_000);

  it("recovers a password through a mailed link", async () => {
    const admin = await (await newContext(browser, w.url)).newPage();
    await login(admin, "admin", ADMIN_NEW_PASSWORD);
    await visit(admin, "/admin/users", "admin-users");
    await admin.getByRole("group", { name: "Add a user" }).getByLabel("User name").fill("frank");
    await admin.getByRole("group", { name: "Add a user" }).getByLabel("E-mail address").fill("frank@example.org");
    await admin.getByRole("button", { name: "Add" }).click();
    const temp = (await admin.locator("main code").textContent())!.trim();
    const frank = await (await newContext(browser, w.url)).newPage();
    await visit(frank, "/login", "login");
    await visit(frank, "/recover", "recover");
    await frank.getByLabel("User name or e-mail address").fill("frank@example.org");
    await frank.getByRole("button", { name: "Mail me a reset link" }).click();
    expect(await flash(frank)).toContain("If that user exists");
    await admin.goto("/admin/outbox");
    const body = await admin.getByRole("textbox", { name: "Message to frank@example.org" }).first().inputValue();
    const link = /https:\/\/\S+\/reset\?code=\S+/.exec(body)![0];
    await frank.goto(link);
    await expectAccessible(frank);
    await screenshot(frank, "reset");
    await frank.getByLabel("New password", { exact: true }).fill("franks-new-pass");
    await frank.getByLabel("New password again").fill("franks-new-pass");
    await frank.getByRole("button", { name: "Set the password" }).click();
    expect(await flash(frank)).toContain("was changed");
    // The old (temporary) password is gone, the link is spent.
    await login(frank, "frank", temp);
    expect(await flash(frank)).toContain("wrong");
    await login(frank, "frank", "franks-new-pass");
    await expect.poll(() => new URL(frank.url()).pathname).toBe("/");
    await frank.goto(link);
    await frank.getByLabel("New password", { exact: true }).fill("another-pass-1");
    await frank.getByLabel("New password again").fill("another-pass-1");
    await frank.getByRole("button", { name: "Set the password" }).click();
    expect(await flash(frank)).toContain("not valid");
    // The admin's first password went with its change.
    expect(existsSync(w.t.cloud.web!.passwordFile)).toBe(false);
  }, 60_000);
});
