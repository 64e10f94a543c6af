/**
 * Volumes as files in one directory: sparse raw files (the default: a volume costs only what
 * is written, and any hypervisor opens it) or qcow2 (made by qemu-img; grows as written,
 * and QEMU can layer an overlay on it). A file is made under a temporary name and renamed,
 * so a crash never leaves a half-made volume under a volume's name.
 */
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  ftruncateSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  fsyncSync,
} from "node:fs";
import { join } from "node:path";
import type { ProgramRunner } from "../../../common/run-program";
import { IncorrectStateError, NotFoundError } from "../../../common/errors";
import { isResourceId } from "../../../common/ids";
import { GIB, type VolumeBackend, type VolumeLocation } from "./types";

export function createFileBackend(o: { dir: string; format: "raw" | "qcow2"; run: ProgramRunner }): VolumeBackend {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const ext = o.format === "raw" ? ".img" : ".qcow2";
  const pathOf = (id: string) => {
    if (!isResourceId("volume", id)) throw new Error(`not a volume id: ${id}`);
    return join(o.dir, `${id}${ext}`);
  };
  // What a crash left half-made.
  for (const f of readdirSync(o.dir)) if (f.endsWith(".part")) rmSync(join(o.dir, f), { force: true });

  async function qemuImg(args: string[], timeoutMs = 60_000): Promise<string> {
    const r = await o.run("qemu-img", args, { timeoutMs });
    if (r.code !== 0) throw new Error(`qemu-img ${args[0]}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }
  const located = (volumeId: string): VolumeLocation => {
    const path = pathOf(volumeId);
    if (!existsSync(path)) throw new NotFoundError("volume", volumeId);
    return { path, format: o.format };
  };

  return {
    name: o.format,
    async create(volumeId, sizeGiB) {
      const path = pathOf(volumeId);
      if (existsSync(path)) return { path, format: o.format };
      const part = `${path}.part`;
      if (o.format === "raw") {
        const fd = openSync(part, "w", 0o600);
        try {
          ftruncateSync(fd, sizeGiB * GIB); // sparse: no block is written
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } else {
        await qemuImg(["create", "-q", "-f", "qcow2", part, `${sizeGiB}G`]);
      }
      renameSync(part, path);
      return { path, format: o.format };
    },
    locate(volumeId): VolumeLocation | undefined {
      const path = pathOf(volumeId);
      return existsSync(path) ? { path, format: o.format } : undefined;
    },
    async sizeOf(volumeId) {
      const path = pathOf(volumeId);
      if (o.format === "raw") return statSync(path).size;
      return (JSON.parse(await qemuImg(["info", "--output=json", "-f", "qcow2", path])) as { "virtual-size": number })[
        "virtual-size"
      ];
    },
    async remove(volumeId) {
      rmSync(pathOf(volumeId), { force: true });
    },
    async copyAt(volumeId, dest) {
      const { path } = located(volumeId);
      if (o.format === "qcow2") {
        await qemuImg(["convert", "-q", "-f", "qcow2", "-O", "raw", "-S", "4k", path, dest], 30 * 60_000);
        return;
      }
      const r = await o.run("cp", ["--sparse=always", "--reflink=auto", path, dest], { timeoutMs: 30 * 60_000 });
      if (r.code !== 0) throw new Error(`cp: ${(r.stderr || r.stdout).trim()}`);
    },
    restoreTarget(volumeId) {
      if (o.format !== "raw") throw new Error("volumes from snapshots are raw files (SC_VOLUME_FORMAT=raw)");
      return located(volumeId);
    },
    exportSource(volumeId, to) {
      const path = pathOf(volumeId);
      if (!existsSync(path)) return undefined;
      if (to === "iscsi" && o.format !== "raw")
        throw new IncorrectStateError(
          `${volumeId} is qcow2; tgt serves raw files (SC_VOLUME_FORMAT=raw, or SC_EXPORT=nbd)`,
        );
      return { path, format: o.format };
    },
    async list() {
      return readdirSync(o.dir)
        .filter((f) => f.endsWith(ext))
        .map((f) => f.slice(0, -ext.length))
        .filter((id) => isResourceId("volume", id))
        .sort();
    },
  };
}
