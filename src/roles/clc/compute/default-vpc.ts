/**
 * The default VPC every account sees, for the tools that look for one (Ansible's
 * ec2_instance stops at "Could not describe default VPC" without it). It is a view of the
 * cloud's networking, not a network of its own: its CIDR is the private range instances
 * are addressed from, each zone (cluster) has its default subnet, with the internet
 * gateway, main route table and default network ACL AWS gives a default VPC. Security
 * groups and instances belong to it. In MANAGED mode each security group's segment is a
 * slice of this range (docs/networking.md). Ids are derived from the account (and zone),
 * so they are stable without being stored. Non-default VPC resources are not supported.
 */
import { createHash } from "node:crypto";
import { NotFoundError } from "../../../common/errors";

export interface Vpc {
  vpcId: string;
  ownerId: string;
  cidrBlock: string;
  dhcpOptionsId: string;
}

export interface Subnet {
  subnetId: string;
  vpcId: string;
  ownerId: string;
  cidrBlock: string;
  availabilityZone: string;
  /** Addresses the zone's guests can still be given (the range less network, gateways, broadcast). */
  availableIpAddressCount: number;
  mapPublicIpOnLaunch: boolean;
}

const id = (prefix: string, ...parts: string[]) =>
  `${prefix}-${createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 8)}`;

export function createDefaultVpcService(o: {
  privateRange: string;
  zones: () => readonly string[];
  publicAddressing: boolean;
}) {
  const bits = Number(o.privateRange.split("/")[1]);
  const vpc = (accountId: string): Vpc => ({
    vpcId: id("vpc", "default-vpc", accountId),
    ownerId: accountId,
    cidrBlock: o.privateRange,
    dhcpOptionsId: id("dopt", "default-dhcp", accountId),
  });
  const subnets = (accountId: string): Subnet[] =>
    o.zones().map((zone) => ({
      subnetId: id("subnet", "default-subnet", accountId, zone),
      vpcId: vpc(accountId).vpcId,
      ownerId: accountId,
      cidrBlock: o.privateRange,
      availabilityZone: zone,
      availableIpAddressCount: 2 ** (32 - bits) - 5,
      mapPublicIpOnLaunch: o.publicAddressing,
    }));
  return {
    vpc,
    subnets,
    /** The zone of one of the account's default subnets; NotFound for any other id. */
    zoneOfSubnet(accountId: string, subnetId: string): string {
      const s = subnets(accountId).find((x) => x.subnetId === subnetId);
      if (!s) throw new NotFoundError("subnet", subnetId);
      return s.availabilityZone;
    },
    /** The default subnet of a zone (an instance's SubnetId). */
    subnetOfZone: (accountId: string, zone: string): string | undefined =>
      subnets(accountId).find((s) => s.availabilityZone === zone)?.subnetId,
    /** Accepts the account's default VPC id (CreateSecurityGroup's VpcId); NotFound for any other. */
    checkVpc(accountId: string, vpcId: string): void {
      if (vpcId !== vpc(accountId).vpcId) throw new NotFoundError("vpc", vpcId);
    },
    internetGatewayId: (accountId: string) => id("igw", "default-igw", accountId),
    routeTableId: (accountId: string) => id("rtb", "default-rtb", accountId),
    networkAclId: (accountId: string) => id("acl", "default-acl", accountId),
  };
}

export type DefaultVpcService = ReturnType<typeof createDefaultVpcService>;
