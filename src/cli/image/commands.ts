/**
 * `euca image bundle | upload | register | import`: the client side of instance-store
 * images, reading the user's eucarc environment (EC2_URL, S3_URL, keys, EC2_CERT,
 * EC2_PRIVATE_KEY, EUCALYPTUS_CERT, EC2_USER_ID) as euca2ools did.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { Command, Option } from "commander";
import cliProgress from "cli-progress";
import { bundleImage, type Bundle } from "../../bundle/create";
import { parseManifest } from "../../bundle/manifest";
import { clientEnv, type ClientEnv } from "./client-env";
import { ec2Call, s3Client } from "./signed-http";
import { importEbs } from "./import-ebs";
import type { CliIo } from "../settings-flags";

const ARCHES = ["i386", "x86_64"];

function progressBar(io: CliIo, label: string, total: number) {
  // A bar on a terminal; one line at the end otherwise (logs, CI).
  const tty = (process.stderr as { isTTY?: boolean }).isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: `${label} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0);
  let done = 0;
  return {
    tick: (n: number) => {
      done += n;
      bar?.update(Math.min(done, total));
    },
    to: (n: number) => {
      done = n;
      bar?.update(Math.min(done, total));
    },
    stop: () => {
      bar?.stop();
      if (!tty) io.err(`${label}: ${done} bytes\n`);
    },
  };
}

async function bundle(
  env: ClientEnv,
  file: string,
  o: { destination: string; prefix?: string; arch?: string; kernel?: string; ramdisk?: string },
  io: CliIo,
): Promise<Bundle> {
  const bar = progressBar(io, `bundling ${basename(file)}`, statSync(file).size);
  let last = 0;
  try {
    return await bundleImage({
      imagePath: file,
      destDir: o.destination,
      prefix: o.prefix,
      userCertPem: readFileSync(env.certPath!, "utf8"),
      userKeyPem: readFileSync(env.keyPath!, "utf8"),
      cloudCertPem: readFileSync(env.cloudCertPath!, "utf8"),
      userId: env.userId!,
      architecture: (o.arch ?? "x86_64") as "i386" | "x86_64",
      kernelId: o.kernel,
      ramdiskId: o.ramdisk,
      onProgress: (n) => {
        bar.tick(n - last);
        last = n;
      },
    });
  } finally {
    bar.stop();
  }
}

/** Uploads parts (skipping those already there with the same content), then the manifest. */
async function upload(env: ClientEnv, manifestPath: string, bucket: string, acl: string, io: CliIo): Promise<string> {
  const s3 = s3Client(env);
  await s3.ensureBucket(bucket);
  const m = parseManifest(readFileSync(manifestPath, "utf8"));
  const dir = dirname(manifestPath);
  const total = m.parts.reduce((n, p) => n + statSync(join(dir, p.filename)).size, 0);
  const bar = progressBar(io, `uploading to ${bucket}`, total);
  try {
    for (const part of m.parts) {
      const path = join(dir, part.filename);
      const md5 = createHash("md5").update(readFileSync(path)).digest("hex");
      if ((await s3.etag(bucket, part.filename)) === `"${md5}"`) {
        bar.tick(statSync(path).size); // resumed: already uploaded
        continue;
      }
      await s3.putFile(bucket, part.filename, path, acl, bar.tick);
    }
    await s3.putFile(bucket, basename(manifestPath), manifestPath, acl);
  } finally {
    bar.stop();
  }
  return `${bucket}/${basename(manifestPath)}`;
}

async function register(
  env: ClientEnv,
  location: string,
  o: { name?: string; arch?: string; kernel?: string; ramdisk?: string; description?: string },
): Promise<string> {
  const params: Record<string, string> = { ImageLocation: location };
  if (o.name) params.Name = o.name;
  if (o.arch) params.Architecture = o.arch;
  if (o.kernel) params.KernelId = o.kernel;
  if (o.ramdisk) params.RamdiskId = o.ramdisk;
  if (o.description) params.Description = o.description;
  const r = await ec2Call(env, "RegisterImage", params);
  return String(r.imageId);
}

export function imageCommand(io: CliIo): Command {
  const image = new Command("image").description(
    "bundle, upload and register instance-store images (reads your eucarc environment)",
  );
  const archOption = () => new Option("--arch <arch>", "architecture").choices(ARCHES).default("x86_64");

  image
    .command("bundle")
    .description(
      "bundle an image file: tar, gzip, AES-128-CBC, 10 MiB parts and a signed manifest (ec2-bundle-image format)",
    )
    .argument("<file>", "the image file (a filesystem image, a kernel or a ramdisk)")
    .option("-d, --destination <dir>", "where to write the parts and manifest", ".")
    .option("-p, --prefix <prefix>", "file name prefix (default: the file's name)")
    .addOption(archOption())
    .option("--kernel <eki>", "kernel id to record in the manifest, or 'true' when this is a kernel")
    .option("--ramdisk <eri>", "ramdisk id to record in the manifest, or 'true' when this is a ramdisk")
    .action(async (file: string, o) => {
      const b = await bundle(clientEnv(io.env, { signing: true }), file, o, io);
      io.out(`${b.manifestPath}\n`);
    });

  image
    .command("upload")
    .description("upload a bundle's parts and manifest to a bucket (created when missing); re-running resumes")
    .argument("<manifest>", "the .manifest.xml written by `euca image bundle`")
    .requiredOption("-b, --bucket <bucket>", "destination bucket")
    .option("--acl <acl>", "canned ACL for the uploaded objects", "aws-exec-read")
    .action(async (manifest: string, o) => {
      io.out(`${await upload(clientEnv(io.env), manifest, o.bucket, o.acl, io)}\n`);
    });

  image
    .command("register")
    .description("register an uploaded bundle as an image (emi, or eki/eri for kernels and ramdisks)")
    .argument("<location>", "bucket/name.manifest.xml")
    .option("-n, --name <name>", "image name")
    .addOption(new Option("--arch <arch>", "architecture").choices(ARCHES))
    .option("--kernel <eki>", "kernel to boot the image with")
    .option("--ramdisk <eri>", "ramdisk to boot the image with")
    .option("--description <text>", "description")
    .action(async (location: string, o) => {
      io.out(`IMAGE\t${await register(clientEnv(io.env), location, o)}\n`);
    });

  image
    .command("import")
    .description(
      "bundle, upload and register in one step (or, with --ebs, make an EBS-backed image); " +
        "with --kernel/--ramdisk files those become eki/eri (admin only) and the image boots with them",
    )
    .argument("<file>", "the root filesystem image")
    .option("--kernel <file>", "a kernel file to register alongside (admin only)")
    .option("--ramdisk <file>", "a ramdisk file to register alongside (admin only)")
    .option("-n, --name <name>", "image name (default: the file's name)")
    .option("-b, --bucket <bucket>", "bucket for the bundles (default: <account>-images)")
    .option(
      "--ebs",
      "make an EBS-backed image instead: the disk (raw or qcow2, with its own bootloader " +
        "or booted by --kernel/--ramdisk) becomes a snapshot, its root",
    )
    .option(
      "--size <GiB>",
      "with --ebs: the root volume's size at launch (default: the disk's, rounded up to GiB)",
      (v) => Number.parseInt(v, 10),
    )
    .addOption(archOption())
    .action(async (file: string, o) => {
      const env = clientEnv(io.env, { signing: true });
      const bucket = o.bucket ?? `${env.userId}-images`;
      const work = mkdtempSync(join(tmpdir(), "euca-import-"));
      try {
        if (o.ebs && !o.kernel && !o.ramdisk) {
          const r = await importEbs(
            env,
            file,
            { bucket, name: o.name ?? basename(file), work, arch: o.arch, size: o.size },
            { start: (label, total) => progressBar(io, label, total) },
          );
          io.out(`SNAPSHOT\t${r.snapshotId}\nIMAGE\t${r.imageId}\n`);
          return;
        }
        const one = async (
          path: string,
          extra: { kernel?: string; ramdisk?: string },
          reg: { name: string; kernel?: string; ramdisk?: string },
        ) => {
          const b = await bundle(env, path, { destination: join(work, basename(path)), arch: o.arch, ...extra }, io);
          const location = await upload(env, b.manifestPath, bucket, "aws-exec-read", io);
          return register(env, location, { ...reg, arch: o.arch });
        };
        const eki = o.kernel ? await one(o.kernel, { kernel: "true" }, { name: basename(o.kernel) }) : undefined;
        if (eki) io.out(`KERNEL\t${eki}\n`);
        const eri = o.ramdisk ? await one(o.ramdisk, { ramdisk: "true" }, { name: basename(o.ramdisk) }) : undefined;
        if (eri) io.out(`RAMDISK\t${eri}\n`);
        if (o.ebs) {
          const r = await importEbs(
            env,
            file,
            { bucket, name: o.name ?? basename(file), work, arch: o.arch, size: o.size, kernel: eki, ramdisk: eri },
            { start: (label, total) => progressBar(io, label, total) },
          );
          io.out(`SNAPSHOT\t${r.snapshotId}\nIMAGE\t${r.imageId}\n`);
          return;
        }
        const emi = await one(file, {}, { name: o.name ?? basename(file), kernel: eki, ramdisk: eri });
        io.out(`IMAGE\t${emi}\n`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  return image;
}
