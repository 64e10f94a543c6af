/** What any component of the cloud may ask the CLC over its internal listener: the CA's revocation list. */
import type { CallContext } from "../../../rpc/types";

export const CLOUD_ROLE = "cloud";
export const CLOUD_METHODS = ["revocationList"] as const;

export interface CloudClient {
  revocationList(input: Record<string, never>, ctx: CallContext): Promise<{ crlPem: string }>;
}
