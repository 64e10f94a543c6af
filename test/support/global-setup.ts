/** Builds the test guest once per run, before any test, when QEMU is installed (CI installs it). */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GUEST_DIR, qemuInstalled } from "./guest";

export default function setup(): void {
  if (!qemuInstalled()) {
    console.warn("qemu-system-x86_64 is not installed: tests that boot real guests are skipped (scripts/test-deps.sh installs it)");
    return;
  }
  const script = fileURLToPath(new URL("../../scripts/test-guest.sh", import.meta.url));
  const r = spawnSync("sh", [script, GUEST_DIR], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the test guest failed:\n${r.stdout}${r.stderr}`);
}
