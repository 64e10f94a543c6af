/**
 * Per-instance disks, as Eucalyptus' NC made them: the root a copy of the cached image, swap
 * and ephemeral sparse files sized per VM type. For real guests swap is formatted with mkswap,
 * the ephemeral disk gets ext3, and the user's SSH key is appended to
 * /root/.ssh/authorized_keys inside the root filesystem — written with e2fsprogs' debugfs,
 * so nothing is mounted and the NC needs no loop devices.
 */
import {
  closeSync,
  constants,
  copyFileSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProgramRunner } from "../../common/run-program";
import { InsufficientCapacityError } from "../../common/errors";

/** Eucalyptus' default swap size for instance-store instances. */
export const SWAP_MB = 512;

function sparseFile(path: string, bytes: number): void {
  const fd = openSync(path, "w", 0o600);
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

export interface InstanceDisks {
  root: string;
  swap: string;
  ephemeral: string;
  /** The key went into the root filesystem (real guests with an ext root). */
  keyInjected: boolean;
}

/** Builds root, swap and ephemeral in `dir` for a VM type's disk size; throws when the image does not fit. */
export async function assembleDisks(o: {
  dir: string;
  image: string;
  vmType: { name: string; diskGb: number };
  publicKey?: string;
  realGuests: boolean;
  run: ProgramRunner;
}): Promise<InstanceDisks> {
  const d: InstanceDisks = {
    root: join(o.dir, "root"),
    swap: join(o.dir, "swap"),
    ephemeral: join(o.dir, "ephemeral"),
    keyInjected: false,
  };
  // The root disk is a copy of the cached image (a reflink where the filesystem can).
  copyFileSync(o.image, d.root, constants.COPYFILE_FICLONE);
  const rootBytes = statSync(d.root).size;
  const totalBytes = o.vmType.diskGb * 1024 ** 3;
  if (rootBytes > totalBytes)
    throw new InsufficientCapacityError(
      `image too large [size=${Math.ceil(rootBytes / 1024 ** 2)}MB] for instance type ${o.vmType.name}`,
    );
  const swapBytes = Math.min(SWAP_MB * 1024 ** 2, totalBytes - rootBytes);
  const ephemeralBytes = totalBytes - rootBytes - swapBytes;
  sparseFile(d.swap, swapBytes);
  sparseFile(d.ephemeral, ephemeralBytes);
  if (o.realGuests) {
    if (swapBytes >= 1024 ** 2) await formatSwap(o.run, d.swap);
    if (ephemeralBytes > 0) await formatEphemeral(o.run, d.ephemeral);
    if (o.publicKey) d.keyInjected = await injectKey(o.run, d.root, o.publicKey);
  } else if (o.publicKey) {
    // The fake guest reads nothing; the key is kept beside its disks for inspection.
    writeFileSync(join(o.dir, "authorized_keys"), `${o.publicKey}\n`, { mode: 0o600 });
  }
  return d;
}

/** An instance-store disk of `bytes` (ext3 for real guests), made empty: an EBS-backed guest's ephemeral mapping. */
export async function ephemeralDisk(o: {
  path: string;
  bytes: number;
  realGuests: boolean;
  run: ProgramRunner;
}): Promise<string> {
  sparseFile(o.path, o.bytes);
  if (o.realGuests && o.bytes > 0) await formatEphemeral(o.run, o.path);
  return o.path;
}

async function must(run: ProgramRunner, cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0)
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim().split("\n").slice(-2).join(" / ")}`,
    );
  return r.stdout;
}

export async function formatSwap(run: ProgramRunner, path: string): Promise<void> {
  await must(run, "mkswap", ["-q", path]);
}

export async function formatEphemeral(run: ProgramRunner, path: string): Promise<void> {
  await must(run, "mke2fs", ["-q", "-F", "-t", "ext3", "-L", "ephemeral", path]);
}

/** An ext2/3/4 filesystem starts with its superblock at 1024; the magic 0xEF53 sits at offset 56 of it. */
export function isExtFilesystem(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 1024 + 56) === 2 && b.readUInt16LE(0) === 0xef53;
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends `publicKey` to /root/.ssh/authorized_keys in the root filesystem image (0700 /
 * 0600, owned by root). Returns false when the image is not an ext filesystem (a disk
 * image with partitions, another filesystem): the key is then left to the metadata service.
 */
export async function injectKey(run: ProgramRunner, image: string, publicKey: string): Promise<boolean> {
  if (!isExtFilesystem(image)) return false;
  const existing = await run("debugfs", ["-R", "cat /root/.ssh/authorized_keys", image]);
  const before = existing.code === 0 && !/File not found/.test(existing.stderr) ? existing.stdout : "";
  const tmp = mkdtempSync(join(tmpdir(), "euca-key-"));
  try {
    const keys = join(tmp, "authorized_keys");
    writeFileSync(keys, `${before}${before && !before.endsWith("\n") ? "\n" : ""}${publicKey.trim()}\n`, {
      mode: 0o600,
    });
    const script = join(tmp, "cmds");
    // Only what is missing is made: debugfs' mkdir over an existing name allocates a second, orphaned inode.
    const exists = async (path: string) =>
      !/not found/i.test((await run("debugfs", ["-R", `stat ${path}`, image])).stderr);
    writeFileSync(
      script,
      [
        ...((await exists("/root")) ? [] : ["mkdir /root"]),
        ...((await exists("/root/.ssh")) ? [] : ["mkdir /root/.ssh"]),
        "set_inode_field /root/.ssh mode 040700",
        ...((await exists("/root/.ssh/authorized_keys")) ? ["rm /root/.ssh/authorized_keys"] : []),
        `write ${keys} /root/.ssh/authorized_keys`,
        "set_inode_field /root/.ssh/authorized_keys mode 0100600",
        "set_inode_field /root/.ssh/authorized_keys uid 0",
        "set_inode_field /root/.ssh/authorized_keys gid 0",
      ].join("\n") + "\n",
    );
    await must(run, "debugfs", ["-w", "-f", script, image]);
    const check = await must(run, "debugfs", ["-R", "cat /root/.ssh/authorized_keys", image]);
    if (!check.includes(publicKey.trim())) throw new Error("debugfs did not write the key into the root filesystem");
    return true;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
