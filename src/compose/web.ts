/**
 * The web interface beside the CLC: its role services (accounts, audit log, mail), its
 * TLS certificate and cookie secret (data dir web/, 0600), the admin's first password
 * (printed once, kept 0600 in web/admin-password until it is changed), the settings
 * page's view of the configuration, and the app served on --web-port.
 */
import { existsSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Hono } from "hono";
import { writeFileAtomic } from "../common/files";
import { every } from "../common/periodic";
import { InvalidParameterError } from "../common/errors";
import { OPTIONS, OPTION_KEYS, SIGNUP_FIELDS, type Settings, type SignupField } from "../config/settings";
import { setConfigValue } from "../config/config-file";
import { urlHost } from "../config/endpoints";
import { createWebApp } from "../api/web/app";
import { createSigner } from "../api/web/security";
import type { SettingView, WebDeps } from "../api/web/context";
import { createAuditLog } from "../roles/clc/audit";
import { createMailer } from "../roles/clc/mail";
import { createWebAccounts } from "../roles/clc/web-accounts";
import { ensureWebCertificate } from "../roles/clc/web-certificate";
import { ensureAdminPassword } from "../roles/clc/admin-password";
import type { WalrusOperations } from "../roles/walrus/service";
import type { Assembly } from "./assembly";
import type { ClcAssembly } from "./clc";

/**
 * What the settings page changes in the running cloud too: read where they are used (getters
 * above and in the role assemblies), in this process. The SC's size limits only where the SC
 * runs here; the rest of EDITABLE waits for the next start.
 */
const LIVE: ReadonlyArray<keyof Settings> = [
  "walrusMaxBuckets",
  "walrusMaxBucketMb",
  "maxAddressesPerUser",
  "scMaxVolumesPerUser",
  "webSessionMinutes",
  "webLoginAttempts",
  "webLockoutMinutes",
  "webAuditMaxRows",
  "webSignupFields",
  "mailFrom",
  "webUrl",
];

/** Settings the admin may change on the settings page (the rest are shown). */
const EDITABLE: ReadonlyArray<keyof Settings> = [
  "walrusMaxBuckets",
  "walrusMaxBucketMb",
  "walrusImageCacheMb",
  "maxAddressesPerUser",
  "scMaxVolumeGb",
  "scMaxTotalGb",
  "scMaxVolumesPerUser",
  "schedPolicy",
  "nodePollSeconds",
  "webSessionMinutes",
  "webLoginAttempts",
  "webLockoutMinutes",
  "webAuditMaxRows",
  "webSignupFields",
  "mailFrom",
  "webUrl",
  "logLevel",
];

/** A value shown on a page: an SMTP URL's password is not. */
function shown(key: keyof Settings, v: unknown): string {
  const text = Array.isArray(v) ? v.join(",") : String(v);
  if (key === "smtpUrl" && text) {
    const u = new URL(text);
    if (u.password) u.password = "********";
    return u.toString();
  }
  return text;
}

export const adminPasswordFile = (webDir: string) => join(webDir, "admin-password");

export interface WebAssembly {
  app: Hono;
  tls: { cert: string; key: string };
  /** Where the admin's first password is kept until the admin changes it. */
  passwordFile: string;
  /** Once the port is known: links in mail name it; the admin's first password is made (returned only the time it is made). */
  start(port: number): Promise<{ url: string; adminPassword?: string }>;
}

export async function assembleWeb(
  a: Assembly,
  o: {
    clc: ClcAssembly;
    walrus?: WalrusOperations;
    roles: () => Array<{ role: string; ready: boolean }>;
    configFile?: string;
    given?: ReadonlySet<keyof Settings>;
  },
): Promise<WebAssembly> {
  const s = a.settings;
  const { clc } = o.clc;
  const dir = a.layout.webDir;
  const cert = await ensureWebCertificate({
    dir,
    ca: clc.ca,
    host: s.host,
    certFile: s.webCert,
    keyFile: s.webKey,
    now: a.clock.now(),
  });
  const secretFile = join(dir, "cookie-secret");
  if (!existsSync(secretFile)) writeFileAtomic(secretFile, randomBytes(32).toString("hex"), 0o600);
  const signer = createSigner(Buffer.from(readFileSync(secretFile, "utf8").trim(), "hex"));
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
      return s.webSignupFields
        .split(",")
        .filter((f): f is SignupField => (SIGNUP_FIELDS as readonly string[]).includes(f));
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

  const live = (k: keyof Settings) =>
    LIVE.includes(k) || ((k === "scMaxVolumeGb" || k === "scMaxTotalGb") && a.has("sc"));
  const settings = {
    list: (): SettingView[] =>
      OPTION_KEYS.filter((k) => k !== "webKey").map((k) => ({
        key: k,
        file: OPTIONS[k].file,
        value: shown(k, s[k]),
        help: OPTIONS[k].help,
        source: o.given?.has(k) ? "given at start" : "default",
        editable: Boolean(o.configFile) && EDITABLE.includes(k),
        live: live(k),
      })),
    set(key: string, value: string): "now" | "next start" {
      if (!o.configFile)
        throw new InvalidParameterError(
          "key",
          "euca was started without --config: settings can be changed here only when they live in a config file",
        );
      if (!EDITABLE.includes(key as keyof Settings))
        throw new InvalidParameterError("key", `${key} cannot be changed from the web interface`);
      const k = key as keyof Settings;
      try {
        setConfigValue(o.configFile, k, value);
      } catch (e) {
        // ConfigError (the value) or a refused file: said as the parameter's problem.
        if (e instanceof Error) throw new InvalidParameterError(key, e.message);
        throw e;
      }
      if (!live(k)) return "next start";
      (s as unknown as Record<string, unknown>)[k] = OPTIONS[k].parse(value, OPTIONS[k].file);
      if (k === "webUrl") webUrl = s.webUrl || webUrl;
      return "now";
    },
  };

  const deps: WebDeps = {
    clock: a.clock,
    ids: a.ids,
    log: a.log,
    accounts,
    audit,
    mail,
    identity: clc.identity,
    iam: o.clc.iam,
    services: o.clc.services,
    vmTypes: clc.vmTypes,
    clusters: o.clc.clusters,
    walrus: o.walrus,
    endpoints: () => o.clc.endpoints(),
    signer,
    roles: o.roles,
    settings,
    limits: {
      get maxAddresses() {
        return s.maxAddressesPerUser;
      },
      get maxVolumes() {
        return s.scMaxVolumesPerUser;
      },
      get maxVolumeGb() {
        return s.scMaxVolumeGb;
      },
      get maxTotalVolumeGb() {
        return s.scMaxTotalGb;
      },
      get maxBuckets() {
        return s.walrusMaxBuckets;
      },
      get maxBucketMb() {
        return s.walrusMaxBucketMb;
      },
    },
  };
  const passwordFile = adminPasswordFile(a.layout.webDir);
  return {
    app: createWebApp(deps) as unknown as Hono,
    tls: { cert: cert.certPem, key: cert.keyPem },
    passwordFile,
    async start(port: number) {
      webUrl ||= `https://${urlHost(s.host === "0.0.0.0" ? "127.0.0.1" : s.host)}:${port}`;
      return { url: webUrl, adminPassword: await ensureAdminPassword(clc, passwordFile) };
    },
  };
}
