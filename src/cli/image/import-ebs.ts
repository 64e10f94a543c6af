/**
 * `euca image import DISK --ebs`: an EBS-backed image from a disk image in one step, as
 * EC2's own tools make one — the disk (raw, or qcow2 converted to raw by qemu-img) uploaded
 * to the user's bucket, ImportSnapshot reads it into a snapshot (progress shown), and
 * RegisterImage names that snapshot as the root. The uploaded copy is removed afterwards.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { runProgram } from "../../common/run-program";
import type { ClientEnv } from "./client-env";
import { ec2Call, s3Client } from "./signed-http";

/** A qcow2 file starts with "QFI\xfb". */
function isQcow2(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]));
  } finally {
    closeSync(fd);
  }
}

export interface Progress {
  start(label: string, total: number): { tick(n: number): void; to(n: number): void; stop(): void };
}

export async function importEbs(
  env: ClientEnv,
  file: string,
  o: { bucket: string; name: string; work: string; kernel?: string; ramdisk?: string; arch?: string; size?: number },
  progress: Progress,
): Promise<{ snapshotId: string; imageId: string }> {
  let raw = file;
  if (isQcow2(file)) {
    raw = join(o.work, `${basename(file)}.raw`);
    const r = await runProgram("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", file, raw], {
      timeoutMs: 3_600_000,
    });
    if (r.code !== 0) throw new Error(`qemu-img convert: ${r.stderr.trim()}`);
  }
  const s3 = s3Client(env);
  await s3.ensureBucket(o.bucket);
  const key = `ebs-import/${Date.now()}-${basename(raw)}`;
  const up = progress.start(`uploading ${basename(file)}`, statSync(raw).size);
  try {
    await s3.putFile(o.bucket, key, raw, "private", up.tick);
  } finally {
    up.stop();
  }
  try {
    const task = await ec2Call(env, "ImportSnapshot", {
      "DiskContainer.Format": "RAW",
      "DiskContainer.UserBucket.S3Bucket": o.bucket,
      "DiskContainer.UserBucket.S3Key": key,
      Description: `euca image import ${basename(file)}`.slice(0, 255),
    });
    const taskId = String(task.importTaskId);
    const bar = progress.start("making the snapshot", 100);
    let snapshotId = "";
    try {
      for (;;) {
        const r = await ec2Call(env, "DescribeImportSnapshotTasks", { "ImportTaskId.1": taskId });
        const set = r.importSnapshotTaskSet as { item?: unknown } | undefined;
        const item = (Array.isArray(set?.item) ? set.item[0] : set?.item) as
          { snapshotTaskDetail?: Record<string, string> } | undefined;
        const d = item?.snapshotTaskDetail ?? {};
        if (d.status === "completed") {
          snapshotId = d.snapshotId!;
          bar.to(100);
          break;
        }
        if (d.status === "deleted" || !item)
          throw new Error(`the import failed: ${d.statusMessage ?? "the task is gone"}`);
        bar.to(Number(d.progress ?? 0));
        await new Promise((res) => setTimeout(res, 500));
      }
    } finally {
      bar.stop();
    }
    const params: Record<string, string> = {
      Name: o.name,
      RootDeviceName: "/dev/sda1",
      "BlockDeviceMapping.1.DeviceName": "/dev/sda1",
      "BlockDeviceMapping.1.Ebs.SnapshotId": snapshotId,
      "BlockDeviceMapping.1.Ebs.DeleteOnTermination": "true",
      VirtualizationType: o.kernel ? "paravirtual" : "hvm",
    };
    if (o.size) params["BlockDeviceMapping.1.Ebs.VolumeSize"] = String(o.size);
    if (o.kernel) params.KernelId = o.kernel;
    if (o.ramdisk) params.RamdiskId = o.ramdisk;
    if (o.arch) params.Architecture = o.arch;
    const img = await ec2Call(env, "RegisterImage", params);
    return { snapshotId, imageId: String(img.imageId) };
  } finally {
    await s3.deleteObject(o.bucket, key).catch(() => undefined);
  }
}
