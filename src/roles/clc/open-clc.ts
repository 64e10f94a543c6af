/** Opens the CLC's state: its database (seeded VM types), the cloud CA and the identity service. */
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import type { DataDirLayout } from "../../common/data-dir";
import { recordStart } from "../../db/role-meta";
import { openClcDatabase, type ClcDatabase } from "./database";
import { createIdentityRepo } from "./identity/identity-repo";
import { createIdentityService, type IdentityService } from "./identity/identity-service";
import { ensureCloudCa, type CloudCa } from "./identity/cloud-ca";
import { createVmTypeService, type VmTypeService } from "./compute/vm-types";
import type { CloudEndpoints } from "./identity/credentials";
import { createKeyPairService, type KeyPairService } from "./compute/key-pairs";
import { createSecurityGroupService, type SecurityGroupService } from "./compute/security-groups";

export interface ClcState {
  db: ClcDatabase;
  identity: IdentityService;
  vmTypes: VmTypeService;
  keyPairs: KeyPairService;
  ca: CloudCa;
  securityGroups: SecurityGroupService;
  caCreated: boolean;
  close(): void;
}

export async function openClc(o: {
  layout: DataDirLayout;
  clock: Clock;
  ids: IdGenerator;
  endpoints: () => CloudEndpoints;
}): Promise<ClcState> {
  const db = openClcDatabase(o.layout.database("clc"));
  try {
    recordStart(db.db, __EUCA_VERSION__, o.clock.now());
    const vmTypes = createVmTypeService(db);
    vmTypes.seedDefaults();
    const { ca, created } = await ensureCloudCa(o.layout, o.clock.now());
    const identity = createIdentityService({
      repo: createIdentityRepo(db),
      layout: o.layout,
      ca,
      clock: o.clock,
      ids: o.ids,
      endpoints: o.endpoints,
    });
    return {
      db,
      identity,
      vmTypes,
      ca,
      caCreated: created,
      close: () => db.close(),
      keyPairs: createKeyPairService(db, o.clock, o.ids),
      securityGroups: createSecurityGroupService(db, o.clock, o.ids),
    };
  } catch (e) {
    db.close();
    throw e;
  }
}
