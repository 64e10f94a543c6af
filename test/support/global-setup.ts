/**
 * Once per run, before any test: the run's temporary directory (tests' data directories go
 * under it, and it is removed when the run ends), and the test guest when QEMU is installed
 * (CI installs it).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GUEST_DIR, qemuInstalled } from "./guest";

export default function setup(): () => void {
  // Short: QEMU's and qemu-storage-daemon's sockets live under it (a Unix socket path is at most 107 bytes).
  const root = mkdtempSync(join(tmpdir(), "eut-"));
  chmodSync(root, 0o755); // tests that run euca as an ordinary user (uid 65534) reach their own directories under it
  process.env.EUCA_TEST_TMP = root; // the test workers are forked after this, and inherit it
  // Every euca a test starts (and their children) picks a free web port, as for the other ports.
  process.env.EUCA_WEB_PORT = "0";
  const teardown = () => rmSync(root, { recursive: true, force: true });
  if (!qemuInstalled()) {
    console.warn(
      "qemu-system-x86_64 is not installed: tests that boot real guests are skipped (scripts/test-deps.sh installs it)",
    );
    return teardown;
  }
  const script = fileURLToPath(new URL("../../scripts/test-guest.sh", import.meta.url));
  const r = spawnSync("sh", [script, GUEST_DIR], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the test guest failed:\n${r.stdout}${r.stderr}`);
  return teardown;
}
