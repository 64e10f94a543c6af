/**
 * Regression (issue 25, item 11): the iSCSI CHAP password was on tgtadm's command line,
 * readable in /proc/<pid>/cmdline by any local user of the SC's host. Now the SC tells
 * tgtd over its management socket. With a real tgtd: every command line seen while an
 * attachment is exported, used (a CHAP login by QEMU's libiscsi, its password in a
 * 0600 file) and ended holds no secret; and the login works with the password the
 * export gave, and only with it.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIscsiExporter, type IscsiExport } from "../../src/roles/sc/iscsi-exports";
import { createTgtAdmin } from "../../src/roles/sc/tgt-admin";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { watchArgv, withSecrets } from "../support/argv-watch";

const ready = process.getuid?.() === 0 || process.env.CI === "true";

/** A management port no tgtd answers on (another test's or an earlier run's daemon would be taken for ours). */
async function freeControlPort(): Promise<number> {
  for (let p = 700 + (process.pid % 200); ; p++) if (!(await createTgtAdmin({ controlPort: p }).running())) return p;
}

/** A TCP port nothing listens on, on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

describe.runIf(ready)("an iSCSI export", () => {
  const dir = tempDir("euca-iscsi-");
  const volume = join(dir, "vol-0000c0de");
  let control: number;
  let exporter: ReturnType<typeof createIscsiExporter>;
  let watch: ReturnType<typeof watchArgv>;
  let path: string | undefined;
  let e: IscsiExport;

  /** qemu-img's view of the export with `password` (from a 0600 file): its virtual size, or its error. */
  async function login(password: string): Promise<string> {
    const secret = join(dir, "chap");
    writeFileSync(secret, password, { mode: 0o600 });
    const r = await run(
      "qemu-img",
      [
        "info",
        "--output=json",
        "--object",
        `secret,id=chap,file=${secret}`,
        "--image-opts",
        `driver=iscsi,transport=tcp,portal=${e.portal},target=${e.target},lun=${e.lun},user=${e.user},password-secret=chap`,
      ],
      { env: { ...process.env, PATH: path }, timeoutMs: 30_000 },
    );
    return r.status === 0 ? String(JSON.parse(r.stdout)["virtual-size"]) : r.stderr;
  }

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(volume, Buffer.alloc(4 * 1024 * 1024));
    control = await freeControlPort();
    exporter = createIscsiExporter({
      host: "127.0.0.1",
      port: await freePort(),
      controlPort: control,
      log: pino({ level: "silent" }),
    });
    watch = watchArgv();
    path = `${watch.binDir}:${process.env.PATH}`;
    process.env.PATH = path; // tgtd, started by the exporter, through the watch's wrappers
    e = await exporter.start("vol-0000c0de", "i-0000c0de", volume);
  }, 60_000);

  afterAll(async () => {
    await exporter?.stop("vol-0000c0de").catch(() => undefined);
    await run("pkill", ["-9", "-f", `tgtd -f -C ${control} --iscsi`]);
    process.env.PATH = process.env.PATH!.replace(`${watch.binDir}:`, "");
    rmSync(dir, { recursive: true, force: true });
  });

  it("admits a CHAP login with the attachment's password, and no other", async () => {
    expect(await login(e.password)).toBe(String(4 * 1024 * 1024));
    expect(await login(`${e.password}x`)).toMatch(/fail|denied|authentic/i);
  });

  it("ends its target and account, idempotently", async () => {
    await exporter.stop("vol-0000c0de");
    await exporter.stop("vol-0000c0de");
    const tgt = createTgtAdmin({ controlPort: control });
    expect(await tgt.request({ mode: "target", op: "show" })).not.toContain("vol-0000c0de");
    expect(await tgt.request({ mode: "account", op: "show" })).not.toContain("i-0000c0de");
  });

  it("put no secret on any command line meanwhile", () => {
    const lines = watch.stop();
    expect(lines.some((l) => l.includes(`tgtd -f -C ${control} `))).toBe(true); // the watch saw the daemon start
    expect(lines.some((l) => l.startsWith("qemu-img info"))).toBe(true); // and the logins
    expect(withSecrets(lines, [e.password])).toEqual([]);
  });
});
