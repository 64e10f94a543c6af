/** Helpers shared by the per-area action files. */
import type { Ec2Context } from "../action";

/** Admin `verbose` in an id or name list: every account's resources (Eucalyptus 3.x). */
export function verboseScope(ctx: Ec2Context, names: readonly string[] | undefined): { scope: { accountId: string; all: boolean }; names: string[] } {
  const list = names ?? [];
  const verbose = ctx.principal.isAdmin && list.includes("verbose");
  return { scope: { accountId: ctx.principal.accountId, all: verbose }, names: verbose ? list.filter((n) => n !== "verbose") : [...list] };
}

/** The `tagSet` of a described resource. */
export function tagSet(tags: Record<string, string> | undefined) {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}
