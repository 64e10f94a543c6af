/** Disks for real guests, with the real e2fsprogs/util-linux tools: swap, ephemeral ext3, the SSH key via debugfs. */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { runProgram } from "../../../src/common/run-program";
import { formatEphemeral, formatSwap, injectKey, isExtFilesystem } from "../../../src/roles/nc/disks";
import { tempDir } from "../../support/cloud";

const sparse = (path: string, mb: number) => {
  writeFileSync(path, "");
  truncateSync(path, mb * 1024 * 1024);
  return path;
};
const debugfs = (img: string, cmd: string) =>
  execFileSync("debugfs", ["-R", cmd, img], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("NC disks for real guests", () => {
  it("swap carries the swap signature; ephemeral is an ext3 filesystem labelled ephemeral", async () => {
    const dir = tempDir();
    const swap = sparse(join(dir, "swap"), 16);
    await formatSwap(runProgram, swap);
    expect(
      readFileSync(swap)
        .subarray(4096 - 10, 4096)
        .toString("latin1"),
    ).toBe("SWAPSPACE2");
    const eph = sparse(join(dir, "ephemeral"), 64);
    await formatEphemeral(runProgram, eph);
    expect(isExtFilesystem(eph)).toBe(true);
    expect(execFileSync("dumpe2fs", ["-h", eph], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })).toMatch(
      /Filesystem volume name:\s+ephemeral/,
    );
  });

  it("appends the key to /root/.ssh/authorized_keys (0700/0600, root) without mounting, keeping keys already there", async () => {
    const dir = tempDir();
    const img = sparse(join(dir, "root"), 16);
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext4", img]);
    await injectKey(runProgram, img, "ssh-ed25519 AAAAfirst first@example");
    await injectKey(runProgram, img, "ssh-rsa AAAAsecond second@example\n");
    expect(debugfs(img, "cat /root/.ssh/authorized_keys")).toBe(
      "ssh-ed25519 AAAAfirst first@example\nssh-rsa AAAAsecond second@example\n",
    );
    expect(debugfs(img, "stat /root/.ssh")).toMatch(/Mode:\s+0700/);
    expect(debugfs(img, "stat /root/.ssh/authorized_keys")).toMatch(
      /User:\s+0\s+Group:\s+0[\s\S]*Mode:\s+0600|Mode:\s+0600/,
    );
    // e2fsck exits non-zero (and execFileSync throws) on any inconsistency.
    expect(execFileSync("e2fsck", ["-fn", img], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })).not.toMatch(
      /Fix\?|WARNING/,
    );
  });

  it("a root image that is not an ext filesystem is left untouched", async () => {
    const dir = tempDir();
    const img = join(dir, "root");
    const bytes = randomBytes(64 * 1024);
    writeFileSync(img, bytes);
    expect(await injectKey(runProgram, img, "ssh-rsa AAAA x")).toBe(false);
    expect(readFileSync(img).equals(bytes)).toBe(true);
  });
});
