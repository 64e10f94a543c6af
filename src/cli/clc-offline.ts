/**
 * The CLC's state opened straight from the data directory, for `euca init` and the
 * `euca admin` commands (safe while the cloud runs: WAL mode and a busy timeout let
 * both write). Like `run`, it initializes a fresh data directory first.
 */
import { mkdirSync } from "node:fs";
import { systemClock } from "../common/clock";
import { randomIds } from "../common/ids";
import { dataDirLayout } from "../common/data-dir";
import { openClc, type ClcState } from "../roles/clc/open-clc";
import type { CredentialFiles } from "../roles/clc/credentials";
import { endpointsFor } from "./endpoints";
import type { Settings } from "./options";

export interface OfflineClc extends ClcState {
  adminCreated: boolean;
  adminCredentials: CredentialFiles;
}

export async function openOfflineClc(s: Settings): Promise<OfflineClc> {
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
  const clc = await openClc({
    layout: dataDirLayout(s.dataDir), clock: systemClock, ids: randomIds,
    endpoints: () => endpointsFor(s, { ec2: s.ec2Port, s3: s.s3Port }),
  });
  try {
    const admin = await clc.identity.ensureAdmin();
    return { ...clc, adminCreated: admin.created, adminCredentials: admin.credentials };
  } catch (e) {
    clc.close();
    throw e;
  }
}
