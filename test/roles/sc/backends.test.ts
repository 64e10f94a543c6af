/** One contract for every volume backend: each kind of file, made for real on this disk. */
import { existsSync, openSync, closeSync, readSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { VOLUME_BACKENDS } from "../../../src/roles/sc/backends/registry";
import { GIB, type VolumeBackend } from "../../../src/roles/sc/backends/types";
import { runProgram } from "../../../src/common/run-program";
import { tempDir } from "../../support/cloud";

function writeAt(path: string, offset: number, data: Buffer): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

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

    it("copies a volume at a point in time into a raw image, which later writes do not reach", async () => {
      const dir = tempDir("euca-vol-");
      const b = make(dir);
      await b.create("vol-0000000c", 1);
      const marker = Buffer.from("written before the snapshot");
      const raw = b.locate("vol-0000000c")!.format === "raw";
      if (raw) writeAt(b.restoreTarget("vol-0000000c").path, 4096, marker);
      const copy = join(dir, "copy.raw");
      await b.copyAt("vol-0000000c", copy);
      expect(statSync(copy).size).toBe(GIB);
      if (raw) {
        writeAt(b.locate("vol-0000000c")!.path, 4096, Buffer.alloc(marker.length, 0x78));
        expect(readAt(copy, 4096, marker.length)).toEqual(marker);
      } else expect(readAt(copy, 4096, marker.length)).toEqual(Buffer.alloc(marker.length));
      await expect(b.copyAt("vol-0000000d", join(dir, "none.raw"))).rejects.toThrow(/vol-0000000d/);
    });

    it("names a raw restore target and what an exporter serves; nothing for a volume it does not hold", async () => {
      const b = make(tempDir("euca-vol-"));
      const loc = await b.create("vol-0000000e", 1);
      expect(b.exportSource("vol-0000000e", "nbd")).toEqual(loc);
      expect(b.exportSource("vol-0000000f", "nbd")).toBeUndefined();
      if (loc.format === "raw") {
        expect(b.restoreTarget("vol-0000000e")).toEqual(loc);
        expect(b.exportSource("vol-0000000e", "iscsi")).toEqual(loc);
      } else {
        expect(() => b.restoreTarget("vol-0000000e")).toThrow(/raw/);
        expect(() => b.exportSource("vol-0000000e", "iscsi")).toThrow(/tgt serves raw files/);
      }
    });

    it("a file half-made by a crash is gone when the backend opens again", async () => {
      const dir = tempDir("euca-vol-");
      make(dir);
      const part = join(dir, `vol-00000009.${name.endsWith("raw") ? "img" : "qcow2"}.part`);
      writeFileSync(part, "partial");
      const b = make(dir);
      expect(existsSync(part)).toBe(false);
      expect(await b.list()).toEqual([]);
    });
  });
}

for (const [name, make] of Object.entries(VOLUME_BACKENDS)) {
  volumeBackendContract(`${name}/raw`, (dir) => make({ dir, format: "raw", run: runProgram }));
  volumeBackendContract(`${name}/qcow2`, (dir) => make({ dir, format: "qcow2", run: runProgram }), hasQemuImg);
}
