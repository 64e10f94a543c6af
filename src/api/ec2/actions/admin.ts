/**
 * The administrator's actions on the EC2 endpoint (signed as every EC2 request; refused
 * with UnauthorizedOperation to anyone not recorded as an admin): Eucalyptus 4's
 * DescribeProperties / ModifyPropertyValue (euctl) and DescribeServices, and euca's
 * DescribeClusterNetwork (a running CC's network view),
 * CreateJoinToken / DeregisterHost for hosts joining and leaving, and the cloud's users and
 * VM types (DescribeCloudUsers, CreateCloudUser, DeleteCloudUser, DescribeVmTypes,
 * ModifyVmType). `euca admin` calls them from any host with the admin's credentials.
 */
import { AccessDeniedError, InvalidParameterError } from "../../../common/errors";
import { defineAction, type Ec2Context } from "../action";
import { p } from "../params";

function admin(ctx: Ec2Context) {
  if (!ctx.principal.isAdmin) throw new AccessDeniedError("Only the cloud's administrators may do this");
  return ctx.services.admin;
}

const kindOf = (k: string): "cluster" | "node" => {
  if (k !== "cluster" && k !== "node") throw new InvalidParameterError("Kind", "Kind is cluster or node");
  return k;
};

export const DescribeProperties = defineAction({
  name: "DescribeProperties",
  params: { Prefix: p.string(), Name: p.list(p.string()) },
  async handler(input, ctx) {
    const all = admin(ctx).properties(input.Prefix ?? "");
    const named = input.Name?.map((n) => n.toUpperCase());
    return { properties: named?.length ? all.filter((x) => named.includes(x.name)) : all };
  },
});

export const ModifyPropertyValue = defineAction({
  name: "ModifyPropertyValue",
  params: { Name: p.string({ required: true }), Value: p.string(), Reset: p.boolean() },
  async handler(input, ctx) {
    const a = admin(ctx);
    const before = a.properties(input.Name).find((x) => x.name === input.Name.toUpperCase());
    if (!input.Reset && input.Value === undefined)
      throw new InvalidParameterError("Value", "Give a Value, or Reset=true for the default");
    const r = input.Reset ? a.resetProperty(input.Name) : a.setProperty(input.Name, input.Value!);
    ctx.log.warn(
      { requestId: ctx.requestId, property: r.property.name, by: ctx.principal.userName },
      "property changed",
    );
    return { name: r.property.name, value: r.property.value, oldValue: before?.value ?? "", inForce: r.inForce };
  },
});

export const DescribeServices = defineAction({
  name: "DescribeServices",
  params: {},
  async handler(_input, ctx) {
    return { serviceStatuses: await admin(ctx).services(ctx) };
  },
});

export const DescribeClusterNetwork = defineAction({
  name: "DescribeClusterNetwork",
  params: { ClusterName: p.string() },
  async handler(input, ctx) {
    return await admin(ctx).clusterNetwork(input.ClusterName, ctx);
  },
});

export const CreateJoinToken = defineAction({
  name: "CreateJoinToken",
  params: {
    Kind: p.string({ required: true }),
    ClusterName: p.string({ required: true }),
    NodeName: p.string(),
    TtlSeconds: p.integer(),
  },
  async handler(input, ctx) {
    const t = admin(ctx).joinToken(
      kindOf(input.Kind),
      input.ClusterName,
      input.NodeName,
      input.TtlSeconds === undefined ? undefined : input.TtlSeconds * 1000,
    );
    return { token: t.token, expires: t.expires };
  },
});

export const DeregisterHost = defineAction({
  name: "DeregisterHost",
  params: { Kind: p.string({ required: true }), ClusterName: p.string({ required: true }), NodeName: p.string() },
  async handler(input, ctx) {
    const r = await admin(ctx).removeHost(kindOf(input.Kind), input.ClusterName, input.NodeName, ctx);
    return { revoked: r.revoked };
  },
});

export const DescribeCloudUsers = defineAction({
  name: "DescribeCloudUsers",
  params: {},
  async handler(_input, ctx) {
    return { users: admin(ctx).users() };
  },
});

export const CreateCloudUser = defineAction({
  name: "CreateCloudUser",
  params: { UserName: p.string({ required: true }), AccountName: p.string(), Admin: p.boolean() },
  async handler(input, ctx) {
    const u = await admin(ctx).createUser(input.UserName, { account: input.AccountName, admin: input.Admin === true });
    ctx.log.warn(
      { requestId: ctx.requestId, user: u.name, admin: u.isAdmin, by: ctx.principal.userName },
      "user created",
    );
    return u;
  },
});

export const DeleteCloudUser = defineAction({
  name: "DeleteCloudUser",
  params: { UserName: p.string({ required: true }) },
  async handler(input, ctx) {
    admin(ctx).deleteUser(input.UserName);
    ctx.log.warn({ requestId: ctx.requestId, user: input.UserName, by: ctx.principal.userName }, "user deleted");
    return { return: true };
  },
});

export const DescribeVmTypes = defineAction({
  name: "DescribeVmTypes",
  params: {},
  async handler(_input, ctx) {
    return { vmTypes: admin(ctx).vmTypes() };
  },
});

export const ModifyVmType = defineAction({
  name: "ModifyVmType",
  params: {
    Name: p.string({ required: true }),
    Cpus: p.integer({ required: true }),
    MemoryMb: p.integer({ required: true }),
    DiskGb: p.integer({ required: true }),
  },
  async handler(input, ctx) {
    return admin(ctx).setVmType({ name: input.Name, cpus: input.Cpus, memoryMb: input.MemoryMb, diskGb: input.DiskGb });
  },
});
