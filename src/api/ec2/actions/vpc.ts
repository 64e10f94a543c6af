/**
 * The default VPC's view (roles/clc/compute/default-vpc.ts): DescribeVpcs, DescribeSubnets and
 * the default internet gateway, main route table and network ACL, with their filters.
 * Creating or changing VPC resources answers UnsupportedOperation: the cloud has one
 * default VPC per account until real VPCs exist.
 */
import { NotFoundError, type Resource } from "../../../common/errors";
import { defineAction, type Ec2Context } from "../action";
import { Ec2Error } from "../errors";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";

const bool = (b: boolean) => (b ? "true" : "false");

/** Keeps the ids asked for; one that is not the account's default is NotFound, as EC2 answers. */
function byIds<T>(items: T[], ids: readonly string[] | undefined, idOf: (t: T) => string, resource: Resource): T[] {
  if (!ids?.length) return items;
  for (const id of ids) if (!items.some((t) => idOf(t) === id)) throw new NotFoundError(resource, id);
  return items.filter((t) => ids.includes(idOf(t)));
}

const listing = {
  Filter: filterList(),
  MaxResults: p.integer({ min: 5, max: 1000 }),
  NextToken: p.string(),
  DryRun: p.boolean(),
};
const ids = p.list(p.string());
const describeParams = <K extends string>(idParam: K) => ({
  ...listing,
  ...({ [idParam]: ids } as { [P in K]: typeof ids }),
});

export const DescribeVpcs = defineAction({
  name: "DescribeVpcs",
  params: describeParams("VpcId"),
  async handler(input, ctx) {
    const v = ctx.services.vpcs.vpc(ctx.principal.accountId);
    const vpcs = applyFilters(
      byIds([v], input.VpcId, (x) => x.vpcId, "vpc"),
      input.Filter,
      {
        "vpc-id": (x) => x.vpcId,
        "owner-id": (x) => x.ownerId,
        cidr: (x) => x.cidrBlock,
        "cidr-block": (x) => x.cidrBlock,
        "cidr-block-association.cidr-block": (x) => x.cidrBlock,
        "dhcp-options-id": (x) => x.dhcpOptionsId,
        "is-default": () => "true",
        isDefault: () => "true",
        state: () => "available",
      },
    );
    return {
      vpcSet: vpcs.map((x) => ({
        vpcId: x.vpcId,
        ownerId: x.ownerId,
        state: "available",
        cidrBlock: x.cidrBlock,
        dhcpOptionsId: x.dhcpOptionsId,
        instanceTenancy: "default",
        isDefault: true,
        cidrBlockAssociationSet: [
          {
            associationId: `${x.vpcId.replace("vpc-", "vpc-cidr-assoc-")}`,
            cidrBlock: x.cidrBlock,
            cidrBlockState: { state: "associated" },
          },
        ],
        tagSet: [],
      })),
    };
  },
});

export const DescribeSubnets = defineAction({
  name: "DescribeSubnets",
  params: describeParams("SubnetId"),
  async handler(input, ctx) {
    const all = ctx.services.vpcs.subnets(ctx.principal.accountId);
    const subnets = applyFilters(
      byIds(all, input.SubnetId, (s) => s.subnetId, "subnet"),
      input.Filter,
      {
        "subnet-id": (s) => s.subnetId,
        "vpc-id": (s) => s.vpcId,
        "owner-id": (s) => s.ownerId,
        "availability-zone": (s) => s.availabilityZone,
        "availability-zone-id": (s) => s.availabilityZone,
        cidr: (s) => s.cidrBlock,
        "cidr-block": (s) => s.cidrBlock,
        cidrBlock: (s) => s.cidrBlock,
        "default-for-az": () => "true",
        defaultForAz: () => "true",
        state: () => "available",
        "map-public-ip-on-launch": (s) => bool(s.mapPublicIpOnLaunch),
        "available-ip-address-count": (s) => String(s.availableIpAddressCount),
      },
    );
    return {
      subnetSet: subnets.map((s) => ({
        subnetId: s.subnetId,
        state: "available",
        vpcId: s.vpcId,
        ownerId: s.ownerId,
        cidrBlock: s.cidrBlock,
        availableIpAddressCount: s.availableIpAddressCount,
        availabilityZone: s.availabilityZone,
        availabilityZoneId: s.availabilityZone,
        defaultForAz: true,
        mapPublicIpOnLaunch: s.mapPublicIpOnLaunch,
        assignIpv6AddressOnCreation: false,
        ipv6CidrBlockAssociationSet: [],
        tagSet: [],
      })),
    };
  },
});

function defaults(ctx: Ec2Context) {
  const account = ctx.principal.accountId;
  const v = ctx.services.vpcs.vpc(account);
  return {
    account,
    vpc: v,
    igw: ctx.services.vpcs.internetGatewayId(account),
    rtb: ctx.services.vpcs.routeTableId(account),
    acl: ctx.services.vpcs.networkAclId(account),
  };
}

export const DescribeInternetGateways = defineAction({
  name: "DescribeInternetGateways",
  params: describeParams("InternetGatewayId"),
  async handler(input, ctx) {
    const d = defaults(ctx);
    const igws = applyFilters(
      byIds([d], input.InternetGatewayId, (x) => x.igw, "internet gateway"),
      input.Filter,
      {
        "internet-gateway-id": (x) => x.igw,
        "attachment.vpc-id": (x) => x.vpc.vpcId,
        "attachment.state": () => "available",
        "owner-id": (x) => x.account,
      },
    );
    return {
      internetGatewaySet: igws.map((x) => ({
        internetGatewayId: x.igw,
        ownerId: x.account,
        attachmentSet: [{ vpcId: x.vpc.vpcId, state: "available" }],
        tagSet: [],
      })),
    };
  },
});

export const DescribeRouteTables = defineAction({
  name: "DescribeRouteTables",
  params: describeParams("RouteTableId"),
  async handler(input, ctx) {
    const d = defaults(ctx);
    const tables = applyFilters(
      byIds([d], input.RouteTableId, (x) => x.rtb, "route table"),
      input.Filter,
      {
        "route-table-id": (x) => x.rtb,
        "vpc-id": (x) => x.vpc.vpcId,
        "association.main": () => "true",
        "owner-id": (x) => x.account,
        "route.gateway-id": (x) => ["local", x.igw],
        "route.destination-cidr-block": (x) => [x.vpc.cidrBlock, "0.0.0.0/0"],
      },
    );
    return {
      routeTableSet: tables.map((x) => ({
        routeTableId: x.rtb,
        vpcId: x.vpc.vpcId,
        ownerId: x.account,
        routeSet: [
          { destinationCidrBlock: x.vpc.cidrBlock, gatewayId: "local", state: "active", origin: "CreateRouteTable" },
          { destinationCidrBlock: "0.0.0.0/0", gatewayId: x.igw, state: "active", origin: "CreateRoute" },
        ],
        associationSet: [
          {
            routeTableAssociationId: x.rtb.replace("rtb-", "rtbassoc-"),
            routeTableId: x.rtb,
            main: true,
            associationState: { state: "associated" },
          },
        ],
        propagatingVgwSet: [],
        tagSet: [],
      })),
    };
  },
});

export const DescribeNetworkAcls = defineAction({
  name: "DescribeNetworkAcls",
  params: describeParams("NetworkAclId"),
  async handler(input, ctx) {
    const d = defaults(ctx);
    const acls = applyFilters(
      byIds([d], input.NetworkAclId, (x) => x.acl, "network acl"),
      input.Filter,
      {
        "network-acl-id": (x) => x.acl,
        "vpc-id": (x) => x.vpc.vpcId,
        default: () => "true",
        "owner-id": (x) => x.account,
      },
    );
    const entry = (ruleNumber: number, egress: boolean, ruleAction: "allow" | "deny") => ({
      ruleNumber,
      protocol: "-1",
      ruleAction,
      egress,
      cidrBlock: "0.0.0.0/0",
    });
    return {
      networkAclSet: acls.map((x) => ({
        networkAclId: x.acl,
        vpcId: x.vpc.vpcId,
        ownerId: x.account,
        default: true,
        entrySet: [
          entry(100, true, "allow"),
          entry(32767, true, "deny"),
          entry(100, false, "allow"),
          entry(32767, false, "deny"),
        ],
        associationSet: ctx.services.vpcs.subnets(x.account).map((s) => ({
          networkAclAssociationId: s.subnetId.replace("subnet-", "aclassoc-"),
          networkAclId: x.acl,
          subnetId: s.subnetId,
        })),
        tagSet: [],
      })),
    };
  },
});

/** VPC resources beyond the default: a clear refusal, accepted parameters or not. */
const unsupported = (name: string) =>
  defineAction({
    name,
    params: {},
    anyParams: true,
    async handler() {
      throw new Ec2Error(
        "UnsupportedOperation",
        `${name} is not supported: each account has one default VPC (DescribeVpcs) and its default subnets`,
      );
    },
  });

export const VPC_UNSUPPORTED = [
  "CreateVpc",
  "DeleteVpc",
  "ModifyVpcAttribute",
  "CreateDefaultVpc",
  "AssociateVpcCidrBlock",
  "CreateSubnet",
  "DeleteSubnet",
  "ModifySubnetAttribute",
  "CreateDefaultSubnet",
  "CreateInternetGateway",
  "DeleteInternetGateway",
  "AttachInternetGateway",
  "DetachInternetGateway",
  "CreateRouteTable",
  "DeleteRouteTable",
  "CreateRoute",
  "DeleteRoute",
  "ReplaceRoute",
  "AssociateRouteTable",
  "DisassociateRouteTable",
  "CreateNetworkAcl",
  "DeleteNetworkAcl",
  "CreateNetworkAclEntry",
  "DeleteNetworkAclEntry",
  "ReplaceNetworkAclEntry",
  "CreateNatGateway",
  "CreateVpcEndpoint",
  "CreateVpcPeeringConnection",
  "CreateNetworkInterface",
  "CreateDhcpOptions",
  "AssociateDhcpOptions",
].map(unsupported);
