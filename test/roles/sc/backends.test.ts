/** One contract for every volume backend: each kind of file, made for real on this disk. */
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { createFileBackend } from "../../../src/roles/sc/backends/files";
import { GIB, type VolumeBackend } from "../../../src/roles/sc/backends/types";
import { runCommand } from "../../../src/common/run-command";
import { tempDir } from "../../support/cloud";

const hasQemuImg = spawnSync("qemu-img", ["--version"]).status === 0;

function volumeBackendContract(name: string, make: (dir: string) => VolumeBackend, ready = true) {
  describe.runIf(ready || process.env.CI === "true")(`volume backend contract: ${name}`, () => {
    it("makes a volume of the size asked, idempotently, and says where it is", async () => {
      const b = make(tempDir("euca-vol-"));
      const loc = await b.create("vol-00000001", 2);
      expect(await b.create("vol-00000001", 2)).toEqual(loc);
      expect(b.locate("vol-00000001")).toEqual(loc);
      expect(existsSync(loc.path)).toBe(true);
      expect(await b.sizeOf("vol-00000001")).toBe(2 * GIB);
      expect(statSync(loc.path).blocks * 512).toBeLessThan(4 * 1024 * 1024); // nothing written yet costs (almost) nothing
      expect(b.locate("vol-00000002")).toBeUndefined();
    });

    it("lists what it holds and removes idempotently", async () => {
      const b = make(tempDir("euca-vol-"));
      await b.create("vol-0000000b", 1);
      await b.create("vol-0000000a", 1);
      expect(await b.list()).toEqual(["vol-0000000a", "vol-0000000b"]);
      await b.remove("vol-0000000a");
      await b.remove("vol-0000000a");
      expect(await b.list()).toEqual(["vol-0000000b"]);
    });

    it("refuses what is not a volume id (no path outside its directory)", async () => {
      const b = make(tempDir("euca-vol-"));
      await expect(b.create("../etc/passwd", 1)).rejects.toThrow(/not a volume id/);
      expect(() => b.locate("vol-1/../../x")).toThrow(/not a volume id/);
    });

    it("a file half-made by a crash is gone when the backend opens again", async () => {
      const dir = tempDir("euca-vol-");
      make(dir);
      const part = join(dir, `vol-00000009.${name === "raw" ? "img" : "qcow2"}.part`);
      writeFileSync(part, "partial");
      const b = make(dir);
      expect(existsSync(part)).toBe(false);
      expect(await b.list()).toEqual([]);
    });
  });
}

volumeBackendContract("raw", (dir) => createFileBackend({ dir, format: "raw", run: runCommand }));
volumeBackendContract("qcow2", (dir) => createFileBackend({ dir, format: "qcow2", run: runCommand }), hasQemuImg);
