/**
 * The admin's first web password: made once (at `euca init`, or the first start), shown
 * that once and kept in web/admin-password (0600) until the admin chooses their own at
 * the first login, which the web interface insists on. The file goes once it is stale.
 */
import { existsSync, rmSync } from "node:fs";
import { eq } from "drizzle-orm";
import { hashPassword, randomPassword } from "../../../auth/passwords";
import { writeFileAtomic } from "../../../common/files";
import type { ClcDatabase } from "../database";
import { ADMIN_USER, type IdentityService } from "./identity-service";
import { userProfiles } from "../schema";

/** Returns the password the one time it is made; later calls return undefined (and drop the file once changed). */
export async function ensureAdminPassword(
  clc: { db: ClcDatabase; identity: IdentityService },
  file: string,
): Promise<string | undefined> {
  const { db } = clc.db;
  const admin = clc.identity.getUser(ADMIN_USER);
  const p = db.select().from(userProfiles).where(eq(userProfiles.userId, admin.id)).get();
  if (p?.passwordHash) {
    if (!p.mustChange && existsSync(file)) rmSync(file, { force: true });
    return undefined;
  }
  const password = randomPassword();
  const passwordHash = await hashPassword(password);
  // The file first: a crash between the two leaves a password that can still be read, not one nobody knows.
  writeFileAtomic(file, `${password}\n`, 0o600);
  db.insert(userProfiles)
    .values({ userId: admin.id, passwordHash, mustChange: true })
    .onConflictDoUpdate({
      target: userProfiles.userId,
      set: { passwordHash, mustChange: true, failedLogins: 0, lockedUntil: null },
    })
    .run();
  return password;
}
