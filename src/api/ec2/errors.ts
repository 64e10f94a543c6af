/**
 * The one place where EC2 error codes and HTTP statuses are decided. Client faults
 * are 4xx (a 5xx makes awscli/boto retry); InternalError is only for real faults and
 * never carries internal details.
 */
import { EucaError, type DomainError, type InvalidReason, type Resource, type StateReason } from "../../common/errors";
import type { AuthFailureReason } from "../../auth/errors";

/** An EC2 wire error raised by the protocol layer itself (parsing, auth, dispatch). */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface Ec2ErrorReply {
  code: string;
  message: string;
  status: number;
  fault: "client" | "server";
}

export function authErrorCode(reason: AuthFailureReason): { code: string; status: number } {
  switch (reason) {
    case "missing":
      return { code: "MissingAuthenticationToken", status: 403 };
    case "incomplete":
      return { code: "IncompleteSignature", status: 400 };
    case "expired":
      return { code: "RequestExpired", status: 400 };
    case "unknown-key":
    case "bad-signature":
    case "replayed":
    case "unsupported":
      return { code: "AuthFailure", status: 401 };
  }
}

/** NotFound codes per resource, as AWS names them (every resource: the compiler checks). */
const NOT_FOUND_CODES: Record<Resource, string> = {
  "access key of user": "InvalidParameterValue",
  address: "InvalidAddress.NotFound",
  "availability zone": "InvalidParameterValue",
  bucket: "InvalidParameterValue",
  cluster: "InvalidParameterValue",
  "credentials of user": "InvalidParameterValue",
  image: "InvalidAMIID.NotFound",
  instance: "InvalidInstanceID.NotFound",
  "key pair": "InvalidKeyPair.NotFound",
  node: "InvalidParameterValue",
  object: "InvalidParameterValue",
  region: "InvalidParameterValue",
  resource: "InvalidID",
  "security group": "InvalidGroup.NotFound",
  "security group rule": "InvalidPermission.NotFound",
  upload: "InvalidParameterValue",
  user: "InvalidParameterValue",
  version: "InvalidParameterValue",
  "vm type": "InvalidParameterValue",
  volume: "InvalidVolume.NotFound",
  snapshot: "InvalidSnapshot.NotFound",
  vpc: "InvalidVpcID.NotFound",
  subnet: "InvalidSubnetID.NotFound",
  "internet gateway": "InvalidInternetGatewayID.NotFound",
  "route table": "InvalidRouteTableID.NotFound",
  "network acl": "InvalidNetworkAclID.NotFound",
  "account application": "InvalidParameterValue",
  account: "InvalidParameterValue",
};

/** Duplicate codes where EC2 has one (others are InvalidParameterValue). */
const DUPLICATE_CODES: Partial<Record<Resource, string>> = {
  "key pair": "InvalidKeyPair.Duplicate",
  "security group": "InvalidGroup.Duplicate",
  "security group rule": "InvalidPermission.Duplicate",
};

/** Invalid parameters with a code of their own. */
const INVALID_REASON_CODES: Record<InvalidReason, string> = {
  "address-limit": "AddressLimitExceeded",
  "idempotency-mismatch": "IdempotentParameterMismatch",
  "key-format": "InvalidKeyPair.Format",
  "reserved-name": "InvalidGroup.Reserved",
  "limit-exceeded": "ResourceLimitExceeded",
  "volume-limit": "VolumeLimitExceeded",
  "block-device-mapping": "InvalidBlockDeviceMapping",
};

/** States with a code of their own. */
const STATE_REASON_CODES: Record<StateReason, string> = {
  "volume-in-use": "VolumeInUse",
  instance: "IncorrectInstanceState",
  "snapshot-in-use": "InvalidSnapshot.InUse",
  "address-in-use": "InvalidIPAddress.InUse",
  "termination-protected": "OperationNotPermitted",
};

/** The EC2 code and status of every domain error kind (the switch is exhaustive: a new kind does not compile until it is here). */
function domainReply(e: DomainError): Ec2ErrorReply {
  const reply = (code: string, status = 400): Ec2ErrorReply => ({
    code,
    message: e.message,
    status,
    fault: status >= 500 ? "server" : "client",
  });
  switch (e.kind) {
    case "NotFound":
      return reply(NOT_FOUND_CODES[e.resource]);
    case "Duplicate":
      return reply(DUPLICATE_CODES[e.resource] ?? "InvalidParameterValue");
    case "InvalidParameter":
      return reply(e.reason ? INVALID_REASON_CODES[e.reason] : "InvalidParameterValue");
    case "MissingParameter":
      return reply("MissingParameter");
    case "AccessDenied":
      return reply("UnauthorizedOperation", 403);
    case "IncorrectState":
      return reply(e.reason ? STATE_REASON_CODES[e.reason] : "IncorrectState");
    case "DependencyViolation":
      return reply("DependencyViolation");
    case "InsufficientCapacity":
      return reply(e.of === "volumes" ? "InsufficientVolumeCapacity" : "InsufficientInstanceCapacity", 500);
    case "Unavailable":
      return reply("Unavailable", 503);
    case "Unsupported":
      return reply("UnsupportedOperation");
    // Object storage conditions do not reach EC2 clients as such: an internal fault if one escapes.
    case "Storage":
      return INTERNAL;
    default: {
      const unmapped: never = e; // a kind missing above does not compile
      return unmapped;
    }
  }
}

const INTERNAL: Ec2ErrorReply = {
  code: "InternalError",
  message: "An internal error has occurred",
  status: 500,
  fault: "server",
};

export function toEc2Error(e: unknown): Ec2ErrorReply {
  if (e instanceof Ec2Error)
    return { code: e.code, message: e.message, status: e.status, fault: e.status >= 500 ? "server" : "client" };
  if (e instanceof EucaError) return domainReply(e as DomainError);
  return INTERNAL;
}
