/**
 * The web interface's role services: mail, the audit log, accounts and sessions (swept
 * each minute), reading the live settings where they use them, and the address links in
 * mail name (WEB_URL, else the listener's once it is bound; a live change replaces it).
 */
import { join } from "node:path";
import { every } from "../common/periodic";
import { webUrlOf } from "../config/endpoints";
import type { SettingsStore } from "../config/settings-store";
import { createAuditLog } from "../roles/clc/web/audit";
import type { ClcState } from "../roles/clc/open-clc";
import { createMailer } from "../roles/clc/web/mail";
import { createWebAccounts } from "../roles/clc/web/web-accounts";
import type { Assembly } from "./assembly";

export const adminPasswordFile = (webDir: string) => join(webDir, "admin-password");

export function assembleWebServices(a: Assembly, clc: ClcState, settings: SettingsStore) {
  const s = settings.values;
  const mail = createMailer({
    db: clc.db,
    clock: a.clock,
    log: a.log,
    smtpUrl: s.smtpUrl,
    get from() {
      return s.mailFrom;
    },
  });
  a.cleanups.push(() => mail.close());
  const audit = createAuditLog(clc.db, a.clock, {
    get maxRows() {
      return s.webAuditMaxRows;
    },
  });
  let webUrl = s.webUrl;
  settings.onChange("webUrl", (url) => (webUrl = url || webUrl));
  const accounts = createWebAccounts({
    db: clc.db,
    identity: clc.identity,
    audit,
    mail,
    clock: a.clock,
    ids: a.ids,
    webUrl: () => webUrl,
    // Getters: the settings page changes these while the cloud runs.
    get signupFields() {
      return s.webSignupFields;
    },
    adminPasswordFile: adminPasswordFile(a.layout.webDir),
    get loginAttempts() {
      return s.webLoginAttempts;
    },
    get lockoutMs() {
      return s.webLockoutMinutes * 60_000;
    },
    get sessionIdleMs() {
      return s.webSessionMinutes * 60_000;
    },
  });
  a.cleanups.push(
    every(
      60_000,
      async () => {
        accounts.dropStaleSessions();
      },
      (e) => a.log.error({ err: e }, "web: session sweep failed"),
    ),
  );
  /** Once the listener is bound: the web interface's address. */
  const listening = (port: number) => (webUrl = webUrlOf({ webUrl, host: s.host }, port));
  return { mail, audit, accounts, listening };
}
