/**
 * What the web pages are given (the same role services the APIs call) and what each
 * request carries: its id, the caller's address, the signed-in user, the page view.
 */
import type { Context, Hono } from "hono";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import type { CallContext } from "../../rpc/types";
import type { Ec2Services } from "../ec2/services";
import type { IdentityService, Principal } from "../../roles/clc/identity/identity-service";
import type { IamService } from "../../roles/clc/identity/iam";
import type { VmTypeService } from "../../roles/clc/compute/vm-types";
import type { RegisteredCluster } from "../../roles/clc/compute/zones";
import type { SessionUser, WebAccounts } from "../../roles/clc/web/web-accounts";
import type { AuditLog } from "../../roles/clc/web/audit";
import type { Mailer } from "../../roles/clc/web/mail";
import type { WalrusOperations } from "../../roles/walrus/service";
import type { CloudEndpoints } from "../../config/endpoints";
import type { Signer } from "./security";
import type { View } from "./layout";

import type { SettingView } from "../../config/settings-store";

export type { SettingView } from "../../config/settings-store";

export interface WebDeps {
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  accounts: WebAccounts;
  audit: AuditLog;
  mail: Mailer;
  identity: IdentityService;
  iam: IamService;
  services: Ec2Services;
  vmTypes: VmTypeService;
  clusters: () => readonly RegisteredCluster[];
  /** Walrus when it runs in this process (buckets pages); the S3 URL users' browsers reach it at. */
  walrus?: WalrusOperations;
  endpoints: () => CloudEndpoints;
  signer: Signer;
  limits: {
    maxAddresses: number;
    maxVolumes: number;
    maxVolumeGb: number;
    maxTotalVolumeGb: number;
    maxBuckets: number;
    maxBucketMb: number;
  };
  /** The roles of this process and whether each is ready (the admin's health view). */
  roles: () => Array<{ role: string; ready: boolean }>;
  settings: { list(): SettingView[]; set(key: string, value: string): "now" | "next start" };
}

export interface WebRequest {
  requestId: string;
  address: string;
  sessionId?: string;
  user?: SessionUser;
  view: View;
  ctx: CallContext;
}

export type WebEnv = { Variables: { web: WebRequest } };
export type WebApp = Hono<WebEnv>;
export type WebContext = Context<WebEnv>;

/**
 * The signed-in user as the services' caller on the pages of "your cloud": one's own
 * resources only, an admin's too (an admin's powers over others' are on the admin pages).
 */
export const callerOf = (u: SessionUser) => ({ accountId: u.accountId, isAdmin: false });
export const principalOf = (u: SessionUser): Principal => ({
  userId: u.userId,
  userName: u.userName,
  accountId: u.accountId,
  isAdmin: u.isAdmin,
  accessKeyId: "",
});
