/** IAM (Version 2010-05-08), answered in IAM's own envelope; its actions come with the identity work (issue 12). */
import type { QueryServiceDef } from "./app";

export const IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";

export function iamService(): QueryServiceDef {
  return { service: "iam", namespace: IAM_NAMESPACE, actions: {} };
}
