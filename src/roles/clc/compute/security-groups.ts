/**
 * Security groups and their ingress rules, per account, with a `default` group made
 * on first use (Eucalyptus). Here they are the cloud's record of intent; the clusters
 * enforce them (network-sync.ts sends them every change).
 */
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { DependencyViolationError, DuplicateError, InvalidParameterError, NotFoundError } from "../../../common/errors";
import type { ClcDatabase } from "../database";
import { securityGroupRules, securityGroups } from "../schema";
import type { Scope } from "./key-pairs";
import { idIn, idIs, sameId } from "./id-match";
import type { GroupRules } from "../../cc/client";

export interface GroupRecord {
  id: string;
  accountId: string;
  name: string;
  description: string;
  createdAt: Date;
}

export interface Rule {
  protocol: string;
  fromPort: number;
  toPort: number;
  cidr: string;
  sourceGroupId: string;
}

/** One IpPermission as the API carries it. */
export interface PermissionInput {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrs: string[];
  groups: Array<{ groupId?: string; groupName?: string; userId?: string }>;
}

export type GroupRef = { id: string } | { name: string };

const PROTOCOL_NUMBERS: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", all: "-1" };

function checkCidr(cidr: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
    throw new InvalidParameterError(
      "CidrIp",
      `Value (${cidr}) for parameter cidrIp is invalid. This is not a valid CIDR block.`,
    );
  }
  return cidr;
}

/** Normalizes protocol and ports as EC2 does (icmp: type and code; -1: everything). */
export function normalizePorts(
  protocolRaw: string,
  from?: number,
  to?: number,
): { protocol: string; fromPort: number; toPort: number } {
  const protocol = PROTOCOL_NUMBERS[protocolRaw.toLowerCase()] ?? protocolRaw.toLowerCase();
  if (protocol === "-1") return { protocol, fromPort: -1, toPort: -1 };
  if (protocol === "tcp" || protocol === "udp") {
    if (from === undefined || to === undefined)
      throw new InvalidParameterError("FromPort", `Invalid value for portRange: ${protocol} needs FromPort and ToPort`);
    if (from < 0 || to > 65535 || from > to)
      throw new InvalidParameterError(
        "FromPort",
        `Invalid port range ${from}-${to}: ports are 0-65535 and FromPort <= ToPort`,
      );
    return { protocol, fromPort: from, toPort: to };
  }
  if (protocol === "icmp") {
    const type = from ?? -1;
    const code = to ?? -1;
    if (type < -1 || type > 255 || code < -1 || code > 255)
      throw new InvalidParameterError("FromPort", `Invalid ICMP type/code ${type}/${code}`);
    return { protocol, fromPort: type, toPort: code };
  }
  if (/^\d{1,3}$/.test(protocol) && Number(protocol) <= 255) return { protocol, fromPort: -1, toPort: -1 };
  throw new InvalidParameterError("IpProtocol", `Invalid value '${protocolRaw}' for IP protocol. Unknown protocol.`);
}

export function createSecurityGroupService({ db, sqlite }: ClcDatabase, clock: Clock, ids: IdGenerator) {
  function ensureDefault(accountId: string): void {
    if (
      db
        .select({ id: securityGroups.id })
        .from(securityGroups)
        .where(and(eq(securityGroups.accountId, accountId), eq(securityGroups.name, "default")))
        .get()
    )
      return;
    try {
      db.insert(securityGroups)
        .values({
          id: ids.resourceId("securityGroup"),
          accountId,
          name: "default",
          description: "default group",
          createdAt: clock.now(),
        })
        .run();
    } catch (e) {
      if (!/UNIQUE/.test((e as Error).message)) throw e; // made concurrently: fine
    }
  }

  /** A group of `accountId`; its default group is made only when the caller owns the account. */
  function find(accountId: string, ref: GroupRef, ownAccount = true): GroupRecord {
    if (ownAccount) ensureDefault(accountId);
    const where = "id" in ref ? idIs(securityGroups.id, ref.id) : eq(securityGroups.name, ref.name);
    const g = db
      .select()
      .from(securityGroups)
      .where(and(eq(securityGroups.accountId, accountId), where))
      .get();
    if (!g) throw new NotFoundError("security group", "id" in ref ? ref.id : ref.name);
    return g;
  }

  function rulesOf(p: PermissionInput, owner: string): Rule[] {
    const { protocol, fromPort, toPort } = normalizePorts(p.protocol, p.fromPort, p.toPort);
    const rules: Rule[] = p.cidrs.map((c) => ({ protocol, fromPort, toPort, cidr: checkCidr(c), sourceGroupId: "" }));
    for (const g of p.groups) {
      const account = g.userId || owner; // clients send an empty owner id for "mine"
      const src = find(
        account,
        g.groupId !== undefined ? { id: g.groupId } : { name: g.groupName ?? "" },
        account === owner,
      );
      rules.push({ protocol, fromPort, toPort, cidr: "", sourceGroupId: src.id });
    }
    if (rules.length === 0)
      throw new InvalidParameterError("IpPermissions", "A permission needs an IP range or a source security group");
    return rules;
  }

  const sameRule = (groupId: string, r: Rule) =>
    and(
      eq(securityGroupRules.groupId, groupId),
      eq(securityGroupRules.protocol, r.protocol),
      eq(securityGroupRules.fromPort, r.fromPort),
      eq(securityGroupRules.toPort, r.toPort),
      eq(securityGroupRules.cidr, r.cidr),
      eq(securityGroupRules.sourceGroupId, r.sourceGroupId),
    );

  return {
    create(scope: Scope, name: string, description: string): GroupRecord {
      if (!/^[\x20-\x7e]{1,255}$/.test(name) || name.startsWith("sg-"))
        throw new InvalidParameterError(
          "GroupName",
          `Group name '${name}' is invalid: 1-255 printable characters, not starting with 'sg-'`,
        );
      if (!/^[\x20-\x7e]{0,255}$/.test(description))
        throw new InvalidParameterError(
          "GroupDescription",
          "The description must be at most 255 printable ASCII characters",
        );
      ensureDefault(scope.accountId);
      const g: GroupRecord = {
        id: ids.resourceId("securityGroup"),
        accountId: scope.accountId,
        name,
        description,
        createdAt: clock.now(),
      };
      try {
        db.insert(securityGroups).values(g).run();
      } catch (e) {
        if (/UNIQUE/.test((e as Error).message)) throw new DuplicateError("security group", name);
        throw e;
      }
      return g;
    },

    /** Deletes the group; returns its id. */
    delete(scope: Scope, ref: GroupRef): string {
      const g = find(scope.accountId, ref);
      if (g.name === "default")
        throw new InvalidParameterError(
          "GroupName",
          "The security group 'default' is reserved and cannot be deleted",
          "reserved-name",
        );
      sqlite.transaction(() => {
        const user = db
          .select({ groupId: securityGroupRules.groupId })
          .from(securityGroupRules)
          .where(and(eq(securityGroupRules.sourceGroupId, g.id), ne(securityGroupRules.groupId, g.id)))
          .get();
        if (user)
          throw new DependencyViolationError(
            `resource ${g.id} has a dependent object: group ${user.groupId} grants it access`,
          );
        db.delete(securityGroups).where(eq(securityGroups.id, g.id)).run();
      })();
      return g.id;
    },

    describe(
      scope: Scope,
      names: readonly string[] = [],
      groupIds: readonly string[] = [],
    ): Array<GroupRecord & { rules: Rule[] }> {
      ensureDefault(scope.accountId);
      const conds = scope.all ? [] : [eq(securityGroups.accountId, scope.accountId)];
      if (names.length) conds.push(inArray(securityGroups.name, [...names]));
      if (groupIds.length) conds.push(idIn(securityGroups.id, groupIds));
      const groups = db
        .select()
        .from(securityGroups)
        .where(and(...conds))
        .orderBy(securityGroups.name)
        .all();
      for (const n of names) if (!groups.some((g) => g.name === n)) throw new NotFoundError("security group", n);
      for (const i of groupIds) if (!groups.some((g) => sameId(g.id, i))) throw new NotFoundError("security group", i);
      const rules = groups.length
        ? db
            .select()
            .from(securityGroupRules)
            .where(
              inArray(
                securityGroupRules.groupId,
                groups.map((g) => g.id),
              ),
            )
            .orderBy(sql`rowid`)
            .all()
        : [];
      return groups.map((g) => ({ ...g, rules: rules.filter((r) => r.groupId === g.id) }));
    },

    /** The ingress rules of groups, as clusters enforce them (a group that no longer exists has none). */
    rulesOf(groupIds: readonly string[]): GroupRules[] {
      const ids = [...new Set(groupIds)];
      const rows = ids.length
        ? db
            .select()
            .from(securityGroupRules)
            .where(inArray(securityGroupRules.groupId, ids))
            .orderBy(sql`rowid`)
            .all()
        : [];
      return ids.map((groupId) => ({
        groupId,
        rules: rows
          .filter((r) => r.groupId === groupId)
          .map((r) => ({
            protocol: r.protocol,
            fromPort: r.fromPort,
            toPort: r.toPort,
            ...(r.cidr ? { cidr: r.cidr } : {}),
            ...(r.sourceGroupId ? { sourceGroupId: r.sourceGroupId } : {}),
          })),
      }));
    },

    /** Looks up groups by id across accounts (for rendering source groups). */
    byIds(groupIds: readonly string[]): GroupRecord[] {
      return groupIds.length ? db.select().from(securityGroups).where(idIn(securityGroups.id, groupIds)).all() : [];
    },

    /** Adds rules; returns the group's id. */
    authorize(scope: Scope, ref: GroupRef, permissions: readonly PermissionInput[]): string {
      const g = find(scope.accountId, ref);
      const rules = permissions.flatMap((p) => rulesOf(p, scope.accountId));
      sqlite.transaction(() => {
        for (const r of rules) {
          if (db.select({ g: securityGroupRules.groupId }).from(securityGroupRules).where(sameRule(g.id, r)).get()) {
            throw new DuplicateError(
              "security group rule",
              `${r.protocol} ${r.fromPort}-${r.toPort} ${r.cidr || r.sourceGroupId}`,
            );
          }
          db.insert(securityGroupRules)
            .values({ groupId: g.id, ...r })
            .run();
        }
      })();
      return g.id;
    },

    /** Removes rules; returns the group's id. */
    revoke(scope: Scope, ref: GroupRef, permissions: readonly PermissionInput[]): string {
      const g = find(scope.accountId, ref);
      const rules = permissions.flatMap((p) => rulesOf(p, scope.accountId));
      sqlite.transaction(() => {
        for (const r of rules) {
          const gone = db.delete(securityGroupRules).where(sameRule(g.id, r)).run();
          if (gone.changes === 0)
            throw new NotFoundError(
              "security group rule",
              `${r.protocol} ${r.fromPort}-${r.toPort} ${r.cidr || r.sourceGroupId}`,
            );
        }
      })();
      return g.id;
    },
  };
}

export type SecurityGroupService = ReturnType<typeof createSecurityGroupService>;
