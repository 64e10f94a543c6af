/**
 * The credentials zip as Eucalyptus' web interface handed it out (reference §6.3):
 * `euca2-<user>-x509.zip` holding eucarc, cloud-cert.pem, the user's key and
 * certificate, plus an aws-credentials profile, with the comment telling what to run.
 * Built with yazl (small, maintained, streaming) rather than by hand.
 */
import { createWriteStream, readFileSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import yazl from "yazl";

export function zipName(user: string): string {
  return `euca2-${user}-x509.zip`;
}

const COMMENT = "To setup the environment run: source /path/to/eucarc";
const secret = (f: string) => f.endsWith("-pk.pem") || f === "eucarc" || f === "aws-credentials";

function zipOf(files: ReadonlyArray<{ name: string; content: string | Buffer }>): yazl.ZipFile {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(Buffer.from(f.content), f.name, { mode: secret(f.name) ? 0o100600 : 0o100644 });
  return zip;
}

/** The zip in memory (the web interface's download). */
export function credentialsZip(files: ReadonlyArray<{ name: string; content: string | Buffer }>): Promise<Buffer> {
  const zip = zipOf(files);
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream
      .on("data", (b: Buffer) => parts.push(b))
      .on("end", () => resolve(Buffer.concat(parts)))
      .on("error", reject);
    zip.end({ comment: COMMENT, forceZip64Format: false });
  });
}

/** Zips the files of a credentials directory into `out` (written to a temporary name, then renamed). */
export async function writeCredentialsZip(dir: string, out: string): Promise<void> {
  const zip = zipOf(
    readdirSync(dir)
      .filter((n) => !n.startsWith("."))
      .sort()
      .map((name) => ({ name, content: readFileSync(join(dir, name)) })),
  );
  const tmp = `${out}.${process.pid}.tmp`;
  await new Promise<void>((resolve, reject) => {
    const ws = createWriteStream(tmp, { mode: 0o600 });
    zip.outputStream.pipe(ws).on("close", resolve).on("error", reject);
    zip.end({ comment: COMMENT, forceZip64Format: false });
  });
  renameSync(tmp, out);
}
