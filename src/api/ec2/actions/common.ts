/** Helpers shared by the per-area action files. */
import type { Ec2Context } from "../action";
import { Ec2Error } from "../errors";

/** Admin `verbose` in an id or name list: every account's resources (Eucalyptus 3.x). */
export function verboseScope(
  ctx: Ec2Context,
  names: readonly string[] | undefined,
): { scope: { accountId: string; all: boolean }; names: string[] } {
  const list = names ?? [];
  const verbose = ctx.principal.isAdmin && list.includes("verbose");
  return {
    scope: { accountId: ctx.principal.accountId, all: verbose },
    names: verbose ? list.filter((n) => n !== "verbose") : [...list],
  };
}

/** The `tagSet` of a described resource. */
export function tagSet(tags: Record<string, string> | undefined) {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

/** A page of a listing: NextToken is the offset, base64url, as every Describe action here gives it. */
export function paged<T>(
  rows: readonly T[],
  input: { MaxResults?: number; NextToken?: string },
): { page: T[]; nextToken?: string } {
  const start = input.NextToken ? Number(Buffer.from(input.NextToken, "base64url").toString()) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new Ec2Error("InvalidParameterValue", "The NextToken is not one this service gave");
  const max = input.MaxResults ?? rows.length;
  return {
    page: rows.slice(start, start + max),
    nextToken: start + max < rows.length ? Buffer.from(String(start + max)).toString("base64url") : undefined,
  };
}

/**
 * The grantees a Modify…Attribute adds and removes: the structured Add/Remove lists and,
 * when `legacy` holds, the old form (UserId.N / UserGroup.N with OperationType).
 */
export function grantChanges(
  structured:
    | { Add?: Array<{ Group?: string; UserId?: string }>; Remove?: Array<{ Group?: string; UserId?: string }> }
    | undefined,
  input: { OperationType?: string; UserId?: string[]; UserGroup?: string[] },
  legacy: boolean,
): { add: string[]; remove: string[] } {
  const grantee = (x: { Group?: string; UserId?: string }) => x.Group ?? x.UserId ?? "";
  const add = (structured?.Add ?? []).map(grantee);
  const remove = (structured?.Remove ?? []).map(grantee);
  if (legacy)
    (input.OperationType === "remove" ? remove : add).push(...(input.UserGroup ?? []), ...(input.UserId ?? []));
  return { add, remove };
}
