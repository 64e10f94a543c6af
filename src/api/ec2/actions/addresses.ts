import { MissingParameterError, NotFoundError } from "../../../common/errors";
import { defineAction, type Ec2Context } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";
import { verboseScope } from "./common";

const who = (ctx: Ec2Context) => [ctx.principal.accountId, ctx.principal.isAdmin] as const;

export const AllocateAddress = defineAction({
  name: "AllocateAddress",
  params: {
    Domain: p.string({ enum: ["standard", "vpc"] }),
    Address: p.string(),
    PublicIpv4Pool: p.string(),
    NetworkBorderGroup: p.string(),
    DryRun: p.boolean(),
  },
  handler(_input, ctx) {
    const a = ctx.services.addresses.allocate(...who(ctx));
    return { publicIp: a.publicIp, domain: "standard", allocationId: a.allocationId };
  },
});

export const ReleaseAddress = defineAction({
  name: "ReleaseAddress",
  params: { PublicIp: p.string(), AllocationId: p.string(), NetworkBorderGroup: p.string(), DryRun: p.boolean() },
  async handler(input, ctx) {
    if (input.PublicIp === undefined && input.AllocationId === undefined) throw new MissingParameterError("PublicIp");
    await ctx.services.enforced.releaseAddress(
      ctx.principal,
      { publicIp: input.PublicIp, allocationId: input.AllocationId },
      ctx,
    );
    return { return: true };
  },
});

export const AssociateAddress = defineAction({
  name: "AssociateAddress",
  params: {
    PublicIp: p.string(),
    AllocationId: p.string(),
    InstanceId: p.string(),
    NetworkInterfaceId: p.string(),
    PrivateIpAddress: p.string(),
    AllowReassociation: p.boolean(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    if (input.InstanceId === undefined) throw new MissingParameterError("InstanceId");
    if (input.PublicIp === undefined && input.AllocationId === undefined) throw new MissingParameterError("PublicIp");
    const a = await ctx.services.enforced.associateAddress(
      ctx.principal,
      { publicIp: input.PublicIp, allocationId: input.AllocationId },
      input.InstanceId,
      ctx,
    );
    return { return: true, associationId: a.associationId ?? undefined };
  },
});

export const DisassociateAddress = defineAction({
  name: "DisassociateAddress",
  params: { PublicIp: p.string(), AssociationId: p.string(), DryRun: p.boolean() },
  async handler(input, ctx) {
    if (input.PublicIp === undefined && input.AssociationId === undefined) throw new MissingParameterError("PublicIp");
    await ctx.services.enforced.disassociateAddress(
      ctx.principal,
      { publicIp: input.PublicIp, associationId: input.AssociationId },
      ctx,
    );
    return { return: true };
  },
});

export const DescribeAddresses = defineAction({
  name: "DescribeAddresses",
  params: { PublicIp: p.list(p.string()), AllocationId: p.list(p.string()), Filter: filterList(), DryRun: p.boolean() },
  handler(input, ctx) {
    const { scope, names: ips } = verboseScope(ctx, input.PublicIp);
    const rows = ctx.services.addresses.list(ctx.principal.accountId, scope.all);
    for (const ip of ips) if (!rows.some((r) => r.publicIp === ip)) throw new NotFoundError("address", ip);
    const wanted = rows.filter(
      (r) =>
        (!ips.length || ips.includes(r.publicIp)) &&
        (!input.AllocationId?.length || input.AllocationId.includes(r.allocationId ?? "")),
    );
    const filtered = applyFilters(wanted, input.Filter, {
      "public-ip": (a) => a.publicIp,
      "allocation-id": (a) => a.allocationId ?? undefined,
      "instance-id": (a) => a.instanceId ?? undefined,
      "association-id": (a) => a.associationId ?? undefined,
      domain: () => "standard",
    });
    return {
      addressesSet: filtered.map((a) => ({
        publicIp: a.publicIp,
        allocationId: a.allocationId ?? undefined,
        domain: "standard",
        instanceId: a.instanceId ?? undefined,
        associationId: a.associationId ?? undefined,
      })),
    };
  },
});
