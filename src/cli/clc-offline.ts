/**
 * The CLC's identity and VM types opened straight from the data directory, for
 * `euca init` and the `euca admin` commands (safe while the cloud runs: WAL mode and
 * a busy timeout let both write).
 */
import { mkdirSync } from "node:fs";
import { systemClock } from "../common/clock";
import { randomIds } from "../common/ids";
import { dataDirLayout } from "../common/data-dir";
import { recordStart } from "../db/role-meta";
import { openClcDatabase, type ClcDatabase } from "../roles/clc/database";
import { createIdentityRepo } from "../roles/clc/identity-repo";
import { createIdentityService, type IdentityService } from "../roles/clc/identity-service";
import { ensureCloudCa } from "../roles/clc/cloud-ca";
import { createVmTypeService, type VmTypeService } from "../roles/clc/vm-types";
import { endpointsFor } from "./endpoints";
import type { CredentialFiles } from "../roles/clc/credentials";
import type { Settings } from "./options";

export interface OfflineClc {
  db: ClcDatabase;
  identity: IdentityService;
  vmTypes: VmTypeService;
  caCreated: boolean;
  adminCreated: boolean;
  adminCredentials: CredentialFiles;
  close(): void;
}

export async function openOfflineClc(s: Settings): Promise<OfflineClc> {
  const layout = dataDirLayout(s.dataDir);
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
  const db = openClcDatabase(layout.database("clc"));
  try {
    recordStart(db.db, __EUCA_VERSION__, systemClock.now());
    const vmTypes = createVmTypeService(db);
    vmTypes.seedDefaults();
    const { ca, created } = await ensureCloudCa(layout, systemClock.now());
    const identity = createIdentityService({
      repo: createIdentityRepo(db), layout, ca, clock: systemClock, ids: randomIds,
      endpoints: endpointsFor(s, { ec2: s.ec2Port, s3: s.s3Port }),
    });
    // Every admin command works on a fresh data directory, as `run` does: init first.
    const admin = await identity.ensureAdmin();
    return { db, identity, vmTypes, caCreated: created, adminCreated: admin.created, adminCredentials: admin.credentials, close: () => db.close() };
  } catch (e) {
    db.close();
    throw e;
  }
}
