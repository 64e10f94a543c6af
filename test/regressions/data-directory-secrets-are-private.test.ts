/**
 * Regression (issue 9, finding 5): clc.db (every access key's secret) and the other
 * databases were created 0644, and a data directory that existed with 0755 stayed
 * so: user `nobody` read the admin's secret. Now the directory is 0700, databases
 * and key material 0600, checked and mended with a warning at every start.
 */
import { afterAll, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { startTestCloud, tempDir } from "../support/cloud";

const mode = (p: string) => statSync(p).mode & 0o777;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function secretFiles(root: string): string[] {
  const dbs = readdirSync(root)
    .filter((f) => /\.db(-wal|-shm)?$/.test(f))
    .map((f) => join(root, f));
  const keys = readdirSync(join(root, "keys")).map((f) => join(root, "keys", f));
  const creds = readdirSync(join(root, "credentials", "admin")).map((f) => join(root, "credentials", "admin", f));
  return [...dbs, ...keys, ...creds].filter((f) => !f.endsWith("/cloud-cert.pem")); // the cloud's certificate is public
}

describe("the data directory", () => {
  it("is made private when created, and mended at the next start if someone opened it up", async () => {
    const root = join(tempDir(), "data");
    dirs.push(root);
    let t = await startTestCloud({ dataDir: root });
    await t.stop();
    expect(mode(root)).toBe(0o700);
    const files = secretFiles(root);
    expect(files.some((f) => f.endsWith("clc.db"))).toBe(true);
    for (const f of files) expect([f, mode(f)]).toEqual([f, 0o600]);

    chmodSync(root, 0o755);
    for (const f of files) chmodSync(f, 0o644);
    t = await startTestCloud({ dataDir: root });
    try {
      expect(mode(root)).toBe(0o700);
      for (const f of secretFiles(root)) expect([f, mode(f)]).toEqual([f, 0o600]);
      expect(t.logs()).toContain("data directory: made private what other local users could read");
      expect(t.logs()).toMatch(/"path":"[^"]*clc\.db","was":"0644","now":"0600"/);
    } finally {
      await t.stop();
    }
  });

  it.runIf(process.getuid?.() === 0)(
    "cannot be read by another local user (nobody), even when it was made 0755 by hand",
    async () => {
      const root = join(tempDir(), "data");
      dirs.push(root);
      chmodSync(join(root, ".."), 0o755);
      mkdirSync(root, { mode: 0o755 });
      chmodSync(root, 0o755);
      const t = await startTestCloud({ dataDir: root });
      await t.stop();
      const r = spawnSync("runuser", ["-u", "nobody", "--", "cat", join(root, "clc.db")], { encoding: "utf8" });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied/);
    },
  );
});
