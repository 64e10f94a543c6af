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

/** Zips the files of a credentials directory into `out` (written to a temporary name, then renamed). */
export async function writeCredentialsZip(dir: string, out: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const f of readdirSync(dir).filter((n) => !n.startsWith(".")).sort()) {
    zip.addBuffer(readFileSync(join(dir, f)), f, { mode: f.endsWith("-pk.pem") || f === "eucarc" || f === "aws-credentials" ? 0o100600 : 0o100644 });
  }
  const tmp = `${out}.${process.pid}.tmp`;
  await new Promise<void>((resolve, reject) => {
    const ws = createWriteStream(tmp, { mode: 0o600 });
    zip.outputStream.pipe(ws).on("close", resolve).on("error", reject);
    zip.end({ comment: "To setup the environment run: source /path/to/eucarc", forceZip64Format: false });
  });
  renameSync(tmp, out);
}
