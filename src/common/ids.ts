import { randomBytes, randomUUID } from "node:crypto";

/** The one table of id prefixes (Eucalyptus 1.6 formats, reference §1.4). */
export const ID_PREFIX = {
  instance: "i",
  reservation: "r",
  image: "emi",
  kernel: "eki",
  ramdisk: "eri",
  volume: "vol",
  snapshot: "snap",
  securityGroup: "sg",
  keyPair: "key",
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const RESOURCE_ID = Object.fromEntries(
  Object.entries(ID_PREFIX).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}-[0-9a-fA-F]{8,17}$`)]),
) as Record<IdKind, RegExp>;

/**
 * Whether `id` is a `kind` id as euca has ever written one: its prefix, then 8 to 17 hex
 * digits in either case — new ids are lower-case, ids made by earlier versions upper-case,
 * and the stored id flows on to clusters, nodes and storage unchanged, so every component
 * that checks an id accepts both.
 */
export function isResourceId(kind: IdKind, id: unknown): id is string {
  return typeof id === "string" && RESOURCE_ID[kind].test(id);
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+";

function randomFrom(alphabet: string, length: number): string {
  // Rejection sampling: a byte at or above the largest multiple of the alphabet's size
  // is dropped, so every character is exactly as likely (36 and 10 do not divide 256).
  const out: string[] = [];
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      const limit = 256 - (256 % alphabet.length);
      if (b < limit && out.length < length) out.push(alphabet[b % alphabet.length]!);
    }
  }
  return out.join("");
}

/** Generates ids; injected so tests can make them predictable. */
export interface IdGenerator {
  resourceId(kind: IdKind): string;
  requestId(): string;
  accessKeyId(): string;
  secretKey(): string;
  accountNumber(): string;
  nonce(): string;
}

/**
 * Resource ids as AWS writes them: lower-case hex, 8 digits, or 17 with long ids
 * (Eucalyptus 4.4's switch). Ids from earlier versions (upper-case) stay valid:
 * lookups compare ids without regard to case.
 */
export function resourceIdOf(kind: IdKind, long = false): string {
  const hex = randomBytes(long ? 9 : 4).toString("hex");
  return `${ID_PREFIX[kind]}-${long ? hex.slice(0, 17) : hex}`;
}

export function randomIdsWith(o: { longIds: boolean }): IdGenerator {
  return { ...randomIds, resourceId: (kind) => resourceIdOf(kind, o.longIds) };
}

export const randomIds: IdGenerator = {
  resourceId: (kind) => resourceIdOf(kind),
  requestId: () => randomUUID(),
  // AWS-shaped: 20 upper-case alphanumerics starting with AKI.
  accessKeyId: () => `AKI${randomFrom(ALNUM, 17)}`,
  secretKey: () => randomFrom(SECRET_ALPHABET, 40),
  accountNumber: () => {
    const digits = randomFrom("0123456789", 12);
    return digits[0] === "0" ? `1${digits.slice(1)}` : digits;
  },
  nonce: () => randomBytes(16).toString("hex"),
};
