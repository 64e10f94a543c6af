/**
 * ModifyInstanceAttribute / ResetInstanceAttribute: what an instance's owner may change
 * after launch. Its type, user data, kernel and ramdisk only while it is stopped (they are
 * what its next start is made from); termination protection, its shutdown behaviour and
 * its volumes' DeleteOnTermination at any time. Security groups are fixed at launch here
 * (the first one decides the network segment its private address is in), and no network
 * mode has a source/destination check to turn off: both are refused as unsupported.
 */
import { eq } from "drizzle-orm";
import { IncorrectStateError, InvalidParameterError, UnsupportedError } from "../../../common/errors";
import type { ClcDatabase } from "../database";
import { instances } from "../schema";
import type { ImageService } from "./images";
import type { InstanceVolumes } from "./instance-volumes";
import type { Caller, InstanceRecord } from "./instance-records";
import type { VmTypeService } from "./vm-types";

const MAX_USER_DATA = 16 * 1024;

export type InstanceAttributeChange =
  | { attribute: "instanceType"; value: string }
  | { attribute: "userData"; value: string }
  | { attribute: "kernel" | "ramdisk"; value: string }
  | { attribute: "disableApiTermination"; value: boolean }
  | { attribute: "instanceInitiatedShutdownBehavior"; value: string }
  | { attribute: "blockDeviceMapping"; value: Array<{ deviceName: string; deleteOnTermination: boolean }> }
  | { attribute: "groupSet"; value: string[] }
  | { attribute: "sourceDestCheck"; value: boolean };

export function createInstanceAttributes(o: {
  db: ClcDatabase;
  images: ImageService;
  vmTypes: VmTypeService;
  volumes: InstanceVolumes;
  /** The caller's own instance (NotFound otherwise). */
  owned: (caller: Caller, id: string) => InstanceRecord;
}) {
  const { db } = o.db;
  const set = (id: string, patch: Partial<InstanceRecord>) =>
    db.update(instances).set(patch).where(eq(instances.id, id)).run();
  const mustBeStopped = (r: InstanceRecord, what: string) => {
    if (r.state !== "stopped")
      throw new IncorrectStateError(
        `The instance '${r.id}' is not in the 'stopped' state: its ${what} can be changed only while it is stopped.`,
        "instance",
      );
  };

  return {
    modify(caller: Caller, id: string, change: InstanceAttributeChange): void {
      const r = o.owned(caller, id);
      if (r.state === "terminated" || r.state === "shutting-down")
        throw new IncorrectStateError(`The instance '${r.id}' is ${r.state}`, "instance");
      switch (change.attribute) {
        case "instanceType":
          mustBeStopped(r, "instance type");
          set(r.id, { instanceType: o.vmTypes.get(change.value).name });
          return;
        case "userData": {
          mustBeStopped(r, "user data");
          if (!/^[A-Za-z0-9+/]*={0,2}$/.test(change.value))
            throw new InvalidParameterError("UserData", "UserData must be base64-encoded");
          if (Buffer.from(change.value, "base64").length > MAX_USER_DATA)
            throw new InvalidParameterError("UserData", `UserData is limited to ${MAX_USER_DATA} bytes`);
          set(r.id, { userData: change.value || null });
          return;
        }
        case "kernel":
        case "ramdisk": {
          mustBeStopped(r, change.attribute);
          const image = o.images.attribute(caller, change.value);
          if (image.type !== change.attribute)
            throw new InvalidParameterError("Value", `${change.value} is not a ${change.attribute} image`);
          set(r.id, change.attribute === "kernel" ? { kernelId: image.id } : { ramdiskId: image.id });
          return;
        }
        case "disableApiTermination":
          set(r.id, { disableApiTermination: change.value });
          return;
        case "instanceInitiatedShutdownBehavior": {
          if (change.value !== "stop" && change.value !== "terminate")
            throw new InvalidParameterError(
              "Value",
              `The shutdown behavior must be stop or terminate, not '${change.value.slice(0, 32)}'`,
            );
          if (change.value === "stop" && r.rootDeviceType !== "ebs")
            throw new UnsupportedError(`The instance '${r.id}' has an instance-store root: it can only terminate`);
          set(r.id, { shutdownBehavior: change.value });
          return;
        }
        case "blockDeviceMapping":
          for (const m of change.value) o.volumes.setDeleteOnTermination(r.id, m.deviceName, m.deleteOnTermination);
          return;
        case "groupSet":
          throw new UnsupportedError(
            "An instance's security groups are fixed at launch here: its first group decides the network its private address is in",
          );
        case "sourceDestCheck":
          throw new UnsupportedError("No network mode of this cloud checks source and destination addresses");
      }
    },

    /** Back to what it launched with: the image's kernel or ramdisk. */
    reset(caller: Caller, id: string, attribute: "kernel" | "ramdisk" | "sourceDestCheck"): void {
      const r = o.owned(caller, id);
      if (attribute === "sourceDestCheck")
        throw new UnsupportedError("No network mode of this cloud checks source and destination addresses");
      mustBeStopped(r, attribute);
      const image = o.images.attribute({ accountId: r.accountId, isAdmin: true }, r.imageId);
      set(r.id, attribute === "kernel" ? { kernelId: image.kernelId } : { ramdiskId: image.ramdiskId });
    },
  };
}

export type InstanceAttributes = ReturnType<typeof createInstanceAttributes>;
