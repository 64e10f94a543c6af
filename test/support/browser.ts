/**
 * Debian's Chromium driven by playwright-core for the web interface's tests: a fresh
 * profile per browser (playwright makes one), no background traffic (this machine's network is closed), the
 * cloud CA's server certificate accepted. Screenshots go to test-artifacts/web/; axe-core
 * checks a page from inside it (evaluated over CDP, so the page's CSP stays in force).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { expect } from "vitest";

export const CHROMIUM = "/usr/bin/chromium";
/** Browser tests run where Chromium is, and under CI=true fail rather than skip without it. */
export const canBrowse = existsSync(CHROMIUM) || process.env.CI === "true";

export const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/web/", import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export async function newContext(b: Browser, baseURL: string, o: { mobile?: boolean } = {}): Promise<BrowserContext> {
  return b.newContext({
    baseURL,
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    ...(o.mobile ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : {}),
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's serious and critical violations on the page as it is now (none expected). */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(`${axeSource}\n;0`);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(o: unknown): Promise<{
            violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>;
          }>;
        };
      }
    ).axe;
    const r = await axe.run({ resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  });
  expect(violations, `axe on ${page.url()}`).toEqual([]);
}
