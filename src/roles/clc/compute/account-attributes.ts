/**
 * DescribeAccountAttributes: what tools (Ansible, Terraform-style providers) ask
 * before they act. Both platforms, EC2 (Classic) and VPC, with the account's default
 * VPC (roles/clc/compute/default-vpc.ts); the address limit is MAX_ADDRESSES_PER_USER; max-instances is how many of the
 * smallest VM type the cloud's zones can hold.
 */
import type { CallContext } from "../../../rpc/types";
import type { VmTypeService } from "./vm-types";
import type { RegisteredCluster } from "./zones";
import type { DefaultVpcService } from "./default-vpc";

export const ACCOUNT_ATTRIBUTES = [
  "supported-platforms",
  "default-vpc",
  "max-instances",
  "max-elastic-ips",
  "vpc-max-elastic-ips",
  "vpc-max-security-groups-per-interface",
] as const;
export type AccountAttribute = (typeof ACCOUNT_ATTRIBUTES)[number];

/** AWS' default for security groups per network interface. */
const GROUPS_PER_INTERFACE = 5;

export function createAccountAttributeService(o: {
  maxAddressesPerUser: number;
  clusters: () => readonly RegisteredCluster[];
  vmTypes: VmTypeService;
  vpcs: DefaultVpcService;
}) {
  async function maxInstances(ctx: CallContext): Promise<number> {
    const smallest = [...o.vmTypes.list()].sort(
      (a, b) => a.cpus - b.cpus || a.memoryMb - b.memoryMb || a.diskGb - b.diskGb,
    )[0];
    if (!smallest) return 0;
    const per = await Promise.all(
      o.clusters().map(async (c) => {
        try {
          return (await c.client.describeResources({ vmTypes: [smallest] }, ctx)).resources[0]?.max ?? 0;
        } catch {
          return 0; // an unreachable zone holds nothing now
        }
      }),
    );
    return per.reduce((a, b) => a + b, 0);
  }

  return {
    async describe(
      accountId: string,
      names: readonly AccountAttribute[],
      ctx: CallContext,
    ): Promise<Array<{ name: AccountAttribute; values: string[] }>> {
      const wanted = names.length ? ACCOUNT_ATTRIBUTES.filter((n) => names.includes(n)) : [...ACCOUNT_ATTRIBUTES];
      const value = async (n: AccountAttribute): Promise<string[]> => {
        switch (n) {
          case "supported-platforms":
            return ["EC2", "VPC"];
          case "default-vpc":
            return [o.vpcs.vpc(accountId).vpcId];
          case "max-instances":
            return [String(await maxInstances(ctx))];
          case "max-elastic-ips":
          case "vpc-max-elastic-ips":
            return [String(o.maxAddressesPerUser)];
          case "vpc-max-security-groups-per-interface":
            return [String(GROUPS_PER_INTERFACE)];
        }
      };
      return Promise.all(wanted.map(async (name) => ({ name, values: await value(name) })));
    },
  };
}

export type AccountAttributeService = ReturnType<typeof createAccountAttributeService>;
