/**
 * SSH public keys: OpenSSH format in and out, and the fingerprints AWS shows
 * (created RSA: SHA-1 of the PKCS#8 private key; imported RSA: MD5 of the DER public
 * key; ED25519: base64 SHA-256 of the key blob), all colon-hex for RSA.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { InvalidParameterError } from "../../../common/errors";

export type KeyType = "rsa" | "ed25519";

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** SSH mpint: big-endian, a leading zero when the top bit is set. */
function mpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const trimmed = b.subarray(i);
  return sshString(trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

const colonHex = (b: Buffer) => b.toString("hex").match(/../g)!.join(":");
const b64url = (s: string) => Buffer.from(s, "base64url");

/** The SSH wire-format blob of a public key. */
export function sshBlob(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" }) as { kty: string; n?: string; e?: string; x?: string };
  if (jwk.kty === "RSA")
    return Buffer.concat([sshString(Buffer.from("ssh-rsa")), mpint(b64url(jwk.e!)), mpint(b64url(jwk.n!))]);
  if (jwk.kty === "OKP") return Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(b64url(jwk.x!))]);
  throw new InvalidParameterError("PublicKeyMaterial", `Key type ${jwk.kty} is not supported`, "key-format");
}

export function openSshPublicKey(key: KeyObject, comment = ""): string {
  const blob = sshBlob(key);
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
  return `${type} ${blob.toString("base64")}${comment ? ` ${comment}` : ""}`;
}

function readString(b: Buffer, off: number): [Buffer, number] {
  if (off + 4 > b.length) throw new Error("truncated");
  const len = b.readUInt32BE(off);
  if (off + 4 + len > b.length) throw new Error("truncated");
  return [b.subarray(off + 4, off + 4 + len), off + 4 + len];
}

const badFormat = (why: string) =>
  new InvalidParameterError("PublicKeyMaterial", `Key is not in valid OpenSSH public key format: ${why}`, "key-format");

/** Parses an OpenSSH public key line (ssh-rsa or ssh-ed25519) or a PEM public key. */
export function parsePublicKey(material: string): { key: KeyObject; type: KeyType } {
  const text = material.trim();
  if (text.startsWith("-----BEGIN")) {
    try {
      const key = createPublicKey(text);
      const type =
        key.asymmetricKeyType === "rsa" ? "rsa" : key.asymmetricKeyType === "ed25519" ? "ed25519" : undefined;
      if (!type) throw badFormat(`unsupported key type ${key.asymmetricKeyType}`);
      return { key, type };
    } catch (e) {
      throw e instanceof InvalidParameterError ? e : badFormat("unreadable PEM");
    }
  }
  const [type, b64] = text.split(/\s+/);
  if (type !== "ssh-rsa" && type !== "ssh-ed25519")
    throw badFormat(`unsupported type '${type ?? ""}' (ssh-rsa and ssh-ed25519 are supported)`);
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw badFormat("the key is not base64");
  const blob = Buffer.from(b64, "base64");
  try {
    const [name, off] = readString(blob, 0);
    if (name.toString() !== type) throw badFormat("the key's type does not match its header");
    if (type === "ssh-rsa") {
      const [e, off2] = readString(blob, off);
      const [n] = readString(blob, off2);
      const key = createPublicKey({
        key: { kty: "RSA", e: e.toString("base64url"), n: n.toString("base64url") },
        format: "jwk",
      });
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 1024) throw badFormat(`RSA keys must have at least 1024 bits (this one has ${bits})`);
      return { key, type: "rsa" };
    }
    const [x] = readString(blob, off);
    if (x.length !== 32) throw badFormat("an ed25519 key is 32 bytes");
    return {
      key: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: x.toString("base64url") }, format: "jwk" }),
      type: "ed25519",
    };
  } catch (e) {
    throw e instanceof InvalidParameterError ? e : badFormat("the key data is truncated or corrupt");
  }
}

export function importedFingerprint(key: KeyObject, type: KeyType): string {
  if (type === "ed25519") return createHash("sha256").update(sshBlob(key)).digest("base64");
  return colonHex(
    createHash("md5")
      .update(key.export({ format: "der", type: "spki" }))
      .digest(),
  );
}

/** A new key pair as CreateKeyPair returns it: private key material, fingerprint, OpenSSH public key. */
export function generateKeyPair(
  type: KeyType,
  name: string,
): { material: string; fingerprint: string; publicKey: string } {
  if (type === "ed25519") {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    return {
      material: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      fingerprint: createHash("sha256").update(sshBlob(publicKey)).digest("base64"),
      publicKey: openSshPublicKey(publicKey, name),
    };
  }
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    material: privateKey.export({ format: "pem", type: "pkcs1" }).toString(),
    fingerprint: colonHex(
      createHash("sha1")
        .update(privateKey.export({ format: "der", type: "pkcs8" }))
        .digest(),
    ),
    publicKey: openSshPublicKey(publicKey, name),
  };
}
