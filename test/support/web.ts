/** A cloud with its web interface, and the steps the browser tests share (log in, visit and check a page). */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { startTestCloud, type TestCloud } from "./cloud";
import { expectAccessible, screenshot } from "./browser";
import { WebClient, type WebResponse } from "./web-client";

export interface WebCloud {
  t: TestCloud;
  url: string;
  adminPassword: string;
}

export const ADMIN_NEW_PASSWORD = "admin-chose-this-1";

export async function startWebCloud(settings: Parameters<typeof startTestCloud>[0] = {}): Promise<WebCloud> {
  const t = await startTestCloud(settings);
  const web = t.cloud.web!;
  return { t, url: web.url, adminPassword: web.adminPassword! };
}

/** Opens a page, checks it with axe-core and keeps a screenshot. */
export async function visit(page: Page, path: string, shot?: string): Promise<void> {
  const r = await page.goto(path);
  expect(r?.status(), `GET ${path}`).toBeLessThan(400);
  await expectAccessible(page);
  if (shot) await screenshot(page, shot);
}

export async function login(page: Page, name: string, password: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** The admin's first login: the initial password, then the forced change. */
export async function firstAdminLogin(page: Page, w: WebCloud): Promise<void> {
  await login(page, "admin", w.adminPassword);
  await page.waitForURL((u) => u.pathname === "/password");
  await page.getByLabel("Current password").fill(w.adminPassword);
  await page.getByLabel("New password", { exact: true }).fill(ADMIN_NEW_PASSWORD);
  await page.getByLabel("New password again").fill(ADMIN_NEW_PASSWORD);
  await page.getByRole("button", { name: "Change the password" }).click();
  await page.waitForURL((u) => u.pathname === "/");
}

export const flash = (page: Page) => page.locator(".flash").first().textContent();

/** An HTTPS client signed in as the admin, past the forced first password change. */
export async function adminClient(w: WebCloud): Promise<WebClient> {
  const admin = new WebClient(w.url, w.t.cloud.layout.cloudCert);
  await admin.login("admin", w.adminPassword);
  await admin.post(
    "/password",
    { current: w.adminPassword, password: ADMIN_NEW_PASSWORD, password2: ADMIN_NEW_PASSWORD },
    "/password",
  );
  return admin;
}

/** Runs one instance of `imageId` from the instances page; returns its id (from the page's message). */
export async function runFromPage(page: Page, imageId: string): Promise<string> {
  await page.goto("/instances");
  const run = page.getByRole("group", { name: "Run an instance" });
  await run.getByLabel("Image").selectOption(imageId);
  await run.getByRole("button", { name: "Run" }).click();
  return /i-[0-9a-f]+/.exec((await flash(page)) ?? "")![0];
}

/** Posts the sign-up form as an applicant would (password `<name>-password-1`). */
export async function applyForAccount(c: WebClient, userName: string): Promise<WebResponse> {
  const password = `${userName}-password-1`;
  return c.post(
    "/apply",
    {
      userName,
      password,
      password2: password,
      fullName: `${userName} applicant`,
      email: `${userName.toLowerCase()}@example.org`,
    },
    "/apply",
  );
}

/** A user the admin adds; it logs in (from `from`, a loopback address) and chooses its password. Returns its signed-in client. */
export async function userWithPassword(
  w: WebCloud,
  admin: WebClient,
  name: string,
  password: string,
  from?: string,
): Promise<WebClient> {
  const r = await admin.post(
    "/admin/users/add",
    { userName: name, fullName: name, email: `${name}@example.org` },
    "/admin/users",
  );
  const temp = /<code>([^<]+)<\/code>/.exec(r.body)![1]!;
  const c = new WebClient(w.url, w.t.cloud.layout.cloudCert, from);
  expect((await c.login(name, temp)).location).toBe("/password");
  const changed = await c.post("/password", { current: temp, password, password2: password }, "/password");
  expect(changed.location).toBe("/");
  return c;
}
