/**
 * The one place where EC2 error codes and HTTP statuses are decided. Client faults
 * are 4xx (a 5xx makes awscli/boto retry); InternalError is only for real faults and
 * never carries internal details.
 */
import { EucaError } from "../../common/errors";
import type { AuthFailureReason } from "../../auth/errors";

/** An EC2 wire error raised by the protocol layer itself (parsing, auth, dispatch). */
export class Ec2Error extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
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
    case "missing": return { code: "MissingAuthenticationToken", status: 403 };
    case "incomplete": return { code: "IncompleteSignature", status: 400 };
    case "expired": return { code: "RequestExpired", status: 400 };
    case "unknown-key":
    case "bad-signature":
    case "replayed":
    case "unsupported": return { code: "AuthFailure", status: 401 };
  }
}

/** NotFound codes per resource, as AWS names them. */
const NOT_FOUND_CODES: Record<string, string> = {
  "availability zone": "InvalidParameterValue",
  region: "InvalidParameterValue",
  "vm type": "InvalidParameterValue",
  "key pair": "InvalidKeyPair.NotFound",
  "security group": "InvalidGroup.NotFound",
  "security group rule": "InvalidPermission.NotFound",
  image: "InvalidAMIID.NotFound",
  "key-pair": "InvalidKeyPair.NotFound",
  "security-group": "InvalidGroup.NotFound",
  instance: "InvalidInstanceID.NotFound",
  volume: "InvalidVolume.NotFound",
  snapshot: "InvalidSnapshot.NotFound",
  resource: "InvalidID",
  address: "InvalidAddress.NotFound",
};

/** Duplicate codes per resource. */
const DUPLICATE_CODES: Record<string, string> = {
  "key pair": "InvalidKeyPair.Duplicate",
  "security group": "InvalidGroup.Duplicate",
  "security group rule": "InvalidPermission.Duplicate",
};

/** InvalidParameter codes per parameter, where EC2 has a specific one. */
const INVALID_PARAMETER_CODES: Record<string, string> = {
  PublicKeyMaterial: "InvalidKeyPair.Format",
  ReservedGroup: "InvalidGroup.Reserved",
  AddressLimit: "AddressLimitExceeded",
  ClientToken: "IdempotentParameterMismatch",
};

export function toEc2Error(e: unknown): Ec2ErrorReply {
  if (e instanceof Ec2Error) return { code: e.code, message: e.message, status: e.status, fault: e.status >= 500 ? "server" : "client" };
  if (e instanceof EucaError) {
    const reply = (code: string, status = 400): Ec2ErrorReply => ({ code, message: e.message, status, fault: status >= 500 ? "server" : "client" });
    switch (e.kind) {
      case "NotFound": return reply(NOT_FOUND_CODES[(e as { resource?: string }).resource ?? ""] ?? "InvalidParameterValue");
      case "Duplicate": return reply(DUPLICATE_CODES[(e as { resource?: string }).resource ?? ""] ?? "InvalidParameterValue");
      case "InvalidParameter": return reply(INVALID_PARAMETER_CODES[(e as { parameter?: string }).parameter ?? ""] ?? "InvalidParameterValue");
      case "MissingParameter": return reply("MissingParameter");
      case "AccessDenied": return reply("UnauthorizedOperation", 403);
      case "IncorrectState": return reply("IncorrectState");
      case "DependencyViolation": return reply("DependencyViolation");
      case "InsufficientCapacity": return reply("InsufficientInstanceCapacity", 500);
      case "Unavailable": return reply("Unavailable", 503);
    }
  }
  return { code: "InternalError", message: "An internal error has occurred", status: 500, fault: "server" };
}
