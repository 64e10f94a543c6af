/**
 * The web interface beside the CLC: its role services (accounts, audit log, mail), its
 * cookie secret (data dir web/, 0600), the admin's first password
 * (printed once, kept 0600 in web/admin-password until it is changed), and the app
 * served on --web-port (its settings page reads and changes config/settings-store.ts).
 */
import type { Hono } from "hono";
import type { SettingsStore } from "../config/settings-store";
import { createWebApp } from "../api/web/app";
import { createSigner } from "../api/web/security";
import type { WebDeps } from "../api/web/context";
import { ensureCookieSecret } from "../roles/clc/web/web-certificate";
import { ensureAdminPassword } from "../roles/clc/identity/admin-password";
import type { WalrusOperations } from "../roles/walrus/service";
import type { Assembly } from "./assembly";
import type { ClcAssembly } from "./clc";
import { adminPasswordFile, assembleWebServices } from "./web-services";

export { adminPasswordFile } from "./web-services";

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
    settings: SettingsStore;
    /** The user-facing listeners' certificate (cloud.ts made it before the listeners opened). */
    cert: { certPem: string; keyPem: string };
  },
): Promise<WebAssembly> {
  const s = a.settings;
  const { clc } = o.clc;
  const dir = a.layout.webDir;
  const { cert } = o;
  const signer = createSigner(ensureCookieSecret(dir));
  const { mail, audit, accounts, listening } = assembleWebServices(a, clc, o.settings);

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
    settings: o.settings,
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
      return { url: listening(port), adminPassword: await ensureAdminPassword(clc, passwordFile) };
    },
  };
}
