/** What any component of the cloud may ask the CLC over its internal listener: the CA's revocation list, the site's settings. */
import type { CallContext } from "../../../rpc/types";

export const CLOUD_ROLE = "cloud";
export const CLOUD_METHODS = ["revocationList", "siteSettings"] as const;

export interface CloudClient {
  revocationList(input: Record<string, never>, ctx: CallContext): Promise<{ crlPem: string }>;
  /** The site's settings as the running CLC has them (config-file keys): `euca doctor` compares a host's with them. */
  siteSettings(input: Record<string, never>, ctx: CallContext): Promise<{ settings: Record<string, string> }>;
}
