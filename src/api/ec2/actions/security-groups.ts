import { MissingParameterError } from "../../../common/errors";
import { defineAction, type Ec2Context } from "../action";
import { applyFilters } from "../filters";
import { filterList, p, type Infer } from "../params";
import { Ec2Error } from "../errors";
import type { GroupRef, PermissionInput, Rule } from "../../../roles/clc/compute/security-groups";
import { tagSet, verboseScope } from "./common";

const ipPermissions = p.list(
  p.struct({
    IpProtocol: p.string({ required: true }),
    FromPort: p.integer(),
    ToPort: p.integer(),
    IpRanges: p.list(p.struct({ CidrIp: p.string({ required: true }), Description: p.string() })),
    Ipv6Ranges: p.list(p.struct({ CidrIpv6: p.string({ required: true }), Description: p.string() })),
    PrefixListIds: p.list(p.struct({ PrefixListId: p.string(), Description: p.string() })),
    Groups: p.list(
      p.struct({
        GroupId: p.string(),
        GroupName: p.string(),
        UserId: p.string(),
        Description: p.string(),
        VpcId: p.string(),
        VpcPeeringConnectionId: p.string(),
        PeeringStatus: p.string(),
      }),
    ),
  }),
);

/** Authorize/Revoke take IpPermissions, or the old flat parameters (euca2ools, boto 2). */
const ingressParams = {
  GroupName: p.string(),
  GroupId: p.string(),
  IpPermissions: ipPermissions,
  IpProtocol: p.string(),
  FromPort: p.integer(),
  ToPort: p.integer(),
  CidrIp: p.string(),
  SourceSecurityGroupName: p.string(),
  SourceSecurityGroupOwnerId: p.string(),
  DryRun: p.boolean(),
};

function target(input: { GroupName?: string; GroupId?: string }): GroupRef {
  if (input.GroupId !== undefined) return { id: input.GroupId };
  if (input.GroupName !== undefined) return { name: input.GroupName };
  throw new MissingParameterError("GroupName");
}

function permissions(input: Infer<typeof ingressParams>): PermissionInput[] {
  const structured = (input.IpPermissions ?? []).map((perm): PermissionInput => {
    if (perm.Ipv6Ranges?.length || perm.PrefixListIds?.length)
      throw new Ec2Error(
        "InvalidParameterValue",
        "IPv6 ranges and prefix lists are not supported (EC2-Classic style groups)",
      );
    return {
      protocol: perm.IpProtocol,
      fromPort: perm.FromPort,
      toPort: perm.ToPort,
      cidrs: (perm.IpRanges ?? []).map((r) => r.CidrIp),
      groups: (perm.Groups ?? []).map((g) => ({ groupId: g.GroupId, groupName: g.GroupName, userId: g.UserId })),
    };
  });
  const flat =
    input.IpProtocol !== undefined || input.SourceSecurityGroupName !== undefined || input.CidrIp !== undefined;
  if (!flat) {
    if (!structured.length) throw new MissingParameterError("IpPermissions");
    return structured;
  }
  const groups =
    input.SourceSecurityGroupName !== undefined
      ? [{ groupName: input.SourceSecurityGroupName, userId: input.SourceSecurityGroupOwnerId }]
      : [];
  if (groups.length && input.IpProtocol === undefined) {
    // A whole-group grant (old EC2 API): every protocol and port from that group.
    return [
      ...structured,
      { protocol: "tcp", fromPort: 0, toPort: 65535, cidrs: [], groups },
      { protocol: "udp", fromPort: 0, toPort: 65535, cidrs: [], groups },
      { protocol: "icmp", fromPort: -1, toPort: -1, cidrs: [], groups },
    ];
  }
  return [
    ...structured,
    {
      protocol: input.IpProtocol ?? "tcp",
      fromPort: input.FromPort,
      toPort: input.ToPort,
      cidrs: input.CidrIp !== undefined ? [input.CidrIp] : groups.length ? [] : ["0.0.0.0/0"],
      groups,
    },
  ];
}

export const CreateSecurityGroup = defineAction({
  name: "CreateSecurityGroup",
  params: {
    GroupName: p.string({ required: true }),
    GroupDescription: p.string({ required: true }),
    VpcId: p.string(),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    // Groups belong to the account's default VPC; naming it is the same as omitting it.
    if (input.VpcId !== undefined) ctx.services.vpcs.checkVpc(ctx.principal.accountId, input.VpcId);
    const g = ctx.services.securityGroups.create(
      { accountId: ctx.principal.accountId },
      input.GroupName,
      input.GroupDescription,
    );
    return { return: true, groupId: g.id };
  },
});

export const DeleteSecurityGroup = defineAction({
  name: "DeleteSecurityGroup",
  params: { GroupName: p.string(), GroupId: p.string(), DryRun: p.boolean() },
  async handler(input, ctx) {
    await ctx.services.enforced.deleteGroup(ctx.principal.accountId, target(input), ctx);
    return { return: true };
  },
});

export const AuthorizeSecurityGroupIngress = defineAction({
  name: "AuthorizeSecurityGroupIngress",
  params: ingressParams,
  async handler(input, ctx) {
    await ctx.services.enforced.authorize(ctx.principal.accountId, target(input), permissions(input), ctx);
    return { return: true };
  },
});

export const RevokeSecurityGroupIngress = defineAction({
  name: "RevokeSecurityGroupIngress",
  params: ingressParams,
  async handler(input, ctx) {
    await ctx.services.enforced.revoke(ctx.principal.accountId, target(input), permissions(input), ctx);
    return { return: true };
  },
});

/** Rules grouped by (protocol, ports) into EC2's ipPermissions shape. */
function renderPermissions(ctx: Ec2Context, rules: readonly Rule[]) {
  const sources = new Map(
    ctx.services.securityGroups
      .byIds([...new Set(rules.map((r) => r.sourceGroupId).filter(Boolean))])
      .map((g) => [g.id, g]),
  );
  const byPorts = new Map<string, Rule[]>();
  for (const r of rules) {
    const k = `${r.protocol}/${r.fromPort}/${r.toPort}`;
    byPorts.set(k, [...(byPorts.get(k) ?? []), r]);
  }
  return [...byPorts.values()].map((rs) => ({
    ipProtocol: rs[0]!.protocol,
    fromPort: rs[0]!.protocol === "-1" ? undefined : rs[0]!.fromPort,
    toPort: rs[0]!.protocol === "-1" ? undefined : rs[0]!.toPort,
    groups: rs
      .filter((r) => r.sourceGroupId)
      .map((r) => ({
        userId: sources.get(r.sourceGroupId)?.accountId,
        groupId: r.sourceGroupId,
        groupName: sources.get(r.sourceGroupId)?.name,
      })),
    ipRanges: rs.filter((r) => r.cidr).map((r) => ({ cidrIp: r.cidr })),
    ipv6Ranges: [],
    prefixListIds: [],
  }));
}

export const DescribeSecurityGroups = defineAction({
  name: "DescribeSecurityGroups",
  params: {
    GroupName: p.list(p.string()),
    GroupId: p.list(p.string()),
    Filter: filterList(),
    MaxResults: p.integer({ min: 5, max: 1000 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    const { scope, names } = verboseScope(ctx, input.GroupName);
    const groups = ctx.services.securityGroups.describe(scope, names, input.GroupId ?? []);
    const tags = ctx.services.tags.of(groups.map((g) => g.id));
    const filtered = applyFilters(
      groups,
      input.Filter,
      {
        "group-name": (g) => g.name,
        "group-id": (g) => g.id,
        description: (g) => g.description,
        "owner-id": (g) => g.accountId,
        "ip-permission.protocol": (g) => g.rules.map((r) => r.protocol),
        "ip-permission.cidr": (g) => g.rules.map((r) => r.cidr).filter(Boolean),
        "ip-permission.from-port": (g) => g.rules.map((r) => String(r.fromPort)),
        "ip-permission.to-port": (g) => g.rules.map((r) => String(r.toPort)),
        "ip-permission.group-id": (g) => g.rules.map((r) => r.sourceGroupId).filter(Boolean),
        "vpc-id": (g) => ctx.services.vpcs.vpc(g.accountId).vpcId,
      },
      (g) => tags.get(g.id) ?? {},
    );
    return {
      securityGroupInfo: filtered.map((g) => ({
        ownerId: g.accountId,
        groupId: g.id,
        groupName: g.name,
        groupDescription: g.description,
        vpcId: ctx.services.vpcs.vpc(g.accountId).vpcId,
        // Egress is not filtered: the default VPC group's one rule, everything out.
        ipPermissions: renderPermissions(ctx, g.rules),
        ipPermissionsEgress: [
          { ipProtocol: "-1", groups: [], ipRanges: [{ cidrIp: "0.0.0.0/0" }], ipv6Ranges: [], prefixListIds: [] },
        ],
        tagSet: tagSet(tags.get(g.id)),
      })),
    };
  },
});
