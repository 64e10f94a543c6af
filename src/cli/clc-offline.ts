/**
 * The CLC's state opened straight from the data directory, for `euca init` and the
 * `euca admin` commands (safe while the cloud runs: WAL mode and a busy timeout let
 * both write). Like `run`, it initializes a fresh data directory first.
 */
import { securePrivateDataDir } from "../common/private-files";
import { systemClock } from "../common/clock";
import { randomIdsWith } from "../common/ids";
import { dataDirLayout } from "../common/data-dir";
import { openClc, type ClcState } from "../roles/clc/open-clc";
import type { CredentialFiles } from "../roles/clc/identity/credentials";
import { endpointsForCommand } from "../config/endpoints";
import type { Settings } from "../config/settings";

export interface OfflineClc extends ClcState {
  adminCreated: boolean;
  adminCredentials: CredentialFiles;
}

export async function openOfflineClc(
  s: Settings,
  given: ReadonlySet<keyof Settings>,
  warn: (text: string) => void = () => undefined,
): Promise<OfflineClc> {
  for (const m of securePrivateDataDir(s.dataDir))
    warn(`euca: warning: ${m.path} was mode ${m.was}, readable by other local users; now ${m.now}\n`);
  const clc = await openClc({
    layout: dataDirLayout(s.dataDir),
    clock: systemClock,
    ids: randomIdsWith({ longIds: s.longIds }),
    endpoints: () => endpointsForCommand(s, given),
  });
  try {
    const admin = await clc.identity.ensureAdmin();
    return { ...clc, adminCreated: admin.created, adminCredentials: admin.credentials };
  } catch (e) {
    clc.close();
    throw e;
  }
}
