import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../../../common/files";
import type { DataDirLayout } from "../../../common/data-dir";
import { createCloudCa } from "./pki";

export interface CloudCa {
  certPem: string;
  keyPem: string;
}

/** Loads the cloud CA from keys/, creating it on first use. The key file is 0600. */
export async function ensureCloudCa(layout: DataDirLayout, now: Date): Promise<{ ca: CloudCa; created: boolean }> {
  if (existsSync(layout.cloudCert) && existsSync(layout.cloudKey)) {
    return {
      ca: { certPem: readFileSync(layout.cloudCert, "utf8"), keyPem: readFileSync(layout.cloudKey, "utf8") },
      created: false,
    };
  }
  const made = await createCloudCa("euca", now);
  // Key first: a crash between the two writes leaves no certificate without its key.
  writeFileAtomic(layout.cloudKey, made.keyPem, 0o600);
  writeFileAtomic(layout.cloudCert, made.certPem, 0o644);
  return { ca: { certPem: made.certPem, keyPem: made.keyPem }, created: true };
}
