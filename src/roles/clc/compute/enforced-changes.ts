/**
 * The changes whose answer waits until the clusters enforce them (rules, addresses) and
 * the bookkeeping that goes with them (an instance's launch address back when its elastic
 * one leaves, tags forgotten with what they tagged). One implementation, called by the EC2
 * actions and the web interface alike.
 */
import type { CallContext } from "../../../rpc/types";
import type { AddressService } from "./addresses";
import type { InstanceService } from "./instances";
import type { NetworkSync } from "./network-sync";
import type { GroupRef, PermissionInput, SecurityGroupService } from "./security-groups";
import type { TagService } from "./tags";

interface Caller {
  accountId: string;
  isAdmin: boolean;
}
type AddressRef = { publicIp?: string; allocationId?: string };

export function createEnforcedChanges(o: {
  securityGroups: SecurityGroupService;
  addresses: AddressService;
  instances: InstanceService;
  network: NetworkSync;
  tags: TagService;
}) {
  /** An address left an instance: the instance gets its launch address back, and the clusters are told. */
  async function addressLeft(
    was: string | undefined,
    ctx: CallContext,
    also: Array<string | undefined> = [],
  ): Promise<void> {
    o.instances.restorePublicAddress(was);
    await o.network.addressesChanged([...also, was], ctx);
  }
  return {
    async deleteGroup(accountId: string, ref: GroupRef, ctx: CallContext): Promise<string> {
      const id = o.securityGroups.delete({ accountId }, ref);
      o.tags.forget(id);
      await o.network.groupsChanged([id], ctx);
      return id;
    },
    async authorize(
      accountId: string,
      ref: GroupRef,
      permissions: readonly PermissionInput[],
      ctx: CallContext,
    ): Promise<string> {
      const id = o.securityGroups.authorize({ accountId }, ref, permissions);
      await o.network.groupsChanged([id], ctx);
      return id;
    },
    async revoke(
      accountId: string,
      ref: GroupRef,
      permissions: readonly PermissionInput[],
      ctx: CallContext,
    ): Promise<string> {
      const id = o.securityGroups.revoke({ accountId }, ref, permissions);
      await o.network.groupsChanged([id], ctx);
      return id;
    },
    /** Associates with the instance as stored (a request may spell its id in another case). */
    async associateAddress(caller: Caller, ref: AddressRef, instanceId: string, ctx: CallContext) {
      const instance = o.instances.live(caller, instanceId);
      const a = o.addresses.associate(caller.accountId, caller.isAdmin, ref, instance.id);
      await addressLeft(a.previous, ctx, [instance.id]);
      return { ...a, instanceId: instance.id };
    },
    async disassociateAddress(
      caller: Caller,
      ref: { publicIp?: string; associationId?: string },
      ctx: CallContext,
    ): Promise<void> {
      await addressLeft(o.addresses.disassociate(caller.accountId, caller.isAdmin, ref), ctx);
    },
    async releaseAddress(caller: Caller, ref: AddressRef, ctx: CallContext): Promise<void> {
      await addressLeft(o.addresses.release(caller.accountId, caller.isAdmin, ref), ctx);
    },
  };
}

export type EnforcedChanges = ReturnType<typeof createEnforcedChanges>;
