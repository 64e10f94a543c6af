import { InvalidParameterError, MissingParameterError } from "../../../common/errors";
import { defineAction } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";
import type { KeyPairRecord } from "../../../roles/clc/compute/key-pairs";
import { tagSet, verboseScope } from "./common";

const item = (k: KeyPairRecord, tags: Record<string, string> | undefined, includePublicKey = false) => ({
  keyPairId: k.id,
  keyName: k.name,
  keyFingerprint: k.fingerprint,
  keyType: k.keyType,
  tagSet: tagSet(tags),
  publicKey: includePublicKey ? k.publicKey : undefined,
  createTime: k.createdAt,
});

export const CreateKeyPair = defineAction({
  name: "CreateKeyPair",
  params: {
    KeyName: p.string({ required: true }),
    KeyType: p.string({ enum: ["rsa", "ed25519"] }),
    KeyFormat: p.string({ enum: ["pem", "ppk"] }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    if (input.KeyFormat === "ppk")
      throw new InvalidParameterError("KeyFormat", "KeyFormat ppk is not supported; use pem (PuTTYgen converts it)");
    const k = ctx.services.keyPairs.create(
      { accountId: ctx.principal.accountId },
      input.KeyName,
      (input.KeyType ?? "rsa") as "rsa" | "ed25519",
    );
    return { keyName: k.name, keyFingerprint: k.fingerprint, keyMaterial: k.material, keyPairId: k.id };
  },
});

export const ImportKeyPair = defineAction({
  name: "ImportKeyPair",
  params: {
    KeyName: p.string({ required: true }),
    PublicKeyMaterial: p.string({ required: true }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    // The Query API carries the material base64-encoded (botocore encodes the blob).
    const raw = input.PublicKeyMaterial.trim();
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(raw) ? Buffer.from(raw, "base64").toString("utf8") : raw;
    const k = ctx.services.keyPairs.import({ accountId: ctx.principal.accountId }, input.KeyName, decoded);
    return { keyName: k.name, keyFingerprint: k.fingerprint, keyPairId: k.id };
  },
});

export const DescribeKeyPairs = defineAction({
  name: "DescribeKeyPairs",
  params: {
    KeyName: p.list(p.string()),
    KeyPairId: p.list(p.string()),
    Filter: filterList(),
    IncludePublicKey: p.boolean(),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    const { scope, names } = verboseScope(ctx, input.KeyName);
    const rows = ctx.services.keyPairs.describe(scope, names, input.KeyPairId ?? []);
    const tags = ctx.services.tags.of(rows.map((k) => k.id));
    const filtered = applyFilters(
      rows,
      input.Filter,
      {
        "key-name": (k) => k.name,
        fingerprint: (k) => k.fingerprint,
        "key-pair-id": (k) => k.id,
        "key-type": (k) => k.keyType,
      },
      (k) => tags.get(k.id) ?? {},
    );
    return { keySet: filtered.map((k) => item(k, tags.get(k.id), input.IncludePublicKey)) };
  },
});

export const DeleteKeyPair = defineAction({
  name: "DeleteKeyPair",
  params: { KeyName: p.string(), KeyPairId: p.string(), DryRun: p.boolean() },
  handler(input, ctx) {
    if (input.KeyName === undefined && input.KeyPairId === undefined) throw new MissingParameterError("KeyName");
    const id = ctx.services.keyPairs.delete(
      { accountId: ctx.principal.accountId },
      { name: input.KeyName, id: input.KeyPairId },
    );
    if (id) ctx.services.tags.forget(id);
    return { return: true };
  },
});
