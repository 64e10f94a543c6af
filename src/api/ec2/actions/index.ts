/** The one EC2 action table, built from the per-area files. */
import type { Ec2Action } from "../action";
import type { Shape } from "../params";
import { DescribeRegions } from "./regions";
import { DescribeAccountAttributes } from "./account-attributes";
import { DescribeAvailabilityZones } from "./zones";
import { CreateKeyPair, DeleteKeyPair, DescribeKeyPairs, ImportKeyPair } from "./key-pairs";
import {
  AuthorizeSecurityGroupIngress,
  CreateSecurityGroup,
  DeleteSecurityGroup,
  DescribeSecurityGroups,
  RevokeSecurityGroupIngress,
} from "./security-groups";
import { CreateTags, DeleteTags, DescribeTags } from "./tags";
import { AllocateAddress, AssociateAddress, DescribeAddresses, DisassociateAddress, ReleaseAddress } from "./addresses";
import { DescribeInstanceStatus } from "./instance-status";
import { CopyImage, CopySnapshot, CreateImage, DescribeImportSnapshotTasks, ImportSnapshot } from "./image-copies";
import { DescribeInstanceAttribute, ModifyInstanceAttribute, ResetInstanceAttribute } from "./instance-attributes";
import {
  DescribeInstances,
  GetConsoleOutput,
  RebootInstances,
  RunInstances,
  StartInstances,
  StopInstances,
  TerminateInstances,
} from "./instances";
import {
  DescribeInternetGateways,
  DescribeNetworkAcls,
  DescribeRouteTables,
  DescribeSubnets,
  DescribeVpcs,
  VPC_UNSUPPORTED,
} from "./vpc";
import {
  CreateSnapshot,
  DeleteSnapshot,
  DescribeSnapshotAttribute,
  DescribeSnapshots,
  ModifySnapshotAttribute,
  ResetSnapshotAttribute,
} from "./snapshots";
import {
  AttachVolume,
  CreateVolume,
  DeleteVolume,
  DescribeVolumeStatus,
  DescribeVolumes,
  DetachVolume,
} from "./volumes";
import {
  ConfirmProductInstance,
  DeregisterImage,
  DescribeImageAttribute,
  DescribeImages,
  ModifyImageAttribute,
  RegisterImage,
  ResetImageAttribute,
} from "./images";

import {
  CreateCloudUser,
  CreateJoinToken,
  DeleteCloudUser,
  DeregisterHost,
  DescribeCloudUsers,
  DescribeClusterNetwork,
  DescribeProperties,
  DescribeServices,
  DescribeVmTypes,
  ModifyPropertyValue,
  ModifyVmType,
} from "./admin";

const actions = [
  DescribeProperties,
  ModifyPropertyValue,
  DescribeServices,
  DescribeClusterNetwork,
  CreateJoinToken,
  DeregisterHost,
  DescribeCloudUsers,
  CreateCloudUser,
  DeleteCloudUser,
  DescribeVmTypes,
  ModifyVmType,
  DescribeRegions,
  DescribeAvailabilityZones,
  DescribeAccountAttributes,
  CreateKeyPair,
  ImportKeyPair,
  DescribeKeyPairs,
  DeleteKeyPair,
  CreateSecurityGroup,
  DeleteSecurityGroup,
  DescribeSecurityGroups,
  AuthorizeSecurityGroupIngress,
  RevokeSecurityGroupIngress,
  RegisterImage,
  DeregisterImage,
  DescribeImages,
  DescribeImageAttribute,
  ModifyImageAttribute,
  ResetImageAttribute,
  ConfirmProductInstance,
  CreateTags,
  DeleteTags,
  DescribeTags,
  RunInstances,
  DescribeInstances,
  TerminateInstances,
  RebootInstances,
  StopInstances,
  StartInstances,
  GetConsoleOutput,
  DescribeInstanceAttribute,
  ModifyInstanceAttribute,
  ResetInstanceAttribute,
  CreateImage,
  CopyImage,
  CopySnapshot,
  ImportSnapshot,
  DescribeImportSnapshotTasks,
  DescribeInstanceStatus,
  AllocateAddress,
  ReleaseAddress,
  AssociateAddress,
  DisassociateAddress,
  DescribeAddresses,
  CreateVolume,
  DeleteVolume,
  DescribeVolumes,
  AttachVolume,
  DetachVolume,
  DescribeVolumeStatus,
  CreateSnapshot,
  DeleteSnapshot,
  DescribeSnapshots,
  DescribeSnapshotAttribute,
  ModifySnapshotAttribute,
  ResetSnapshotAttribute,
  DescribeVpcs,
  DescribeSubnets,
  DescribeInternetGateways,
  DescribeRouteTables,
  DescribeNetworkAcls,
  ...VPC_UNSUPPORTED,
] as unknown as ReadonlyArray<Ec2Action<Shape>>;

export function actionTable(): ReadonlyMap<string, Ec2Action<Shape>> {
  return new Map(actions.map((a) => [a.name, a]));
}
