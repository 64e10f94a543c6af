/**
 * RSA PKCS#1 v1.5 key wrapping as ec2-bundle-image does it (the AES key and IV,
 * as 32-character hex strings). Node refuses PKCS#1 v1.5 private decryption since the
 * Marvin fix (CVE-2023-46809), so unwrapping decrypts without padding and removes the
 * padding in constant time, failing with one uniform error (no padding oracle).
 */
import { constants, privateDecrypt, publicEncrypt } from "node:crypto";

export class UnwrapError extends Error {
  constructor() {
    super("the wrapped key cannot be decrypted with this private key");
  }
}

export function wrapKey(certOrPublicKeyPem: string, plain: string): string {
  return publicEncrypt(
    { key: certOrPublicKeyPem, padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(plain, "utf8"),
  ).toString("hex");
}

/** EM = 0x00 || 0x02 || PS (≥ 8 non-zero bytes) || 0x00 || M; returns M. Branch-free over EM. */
export function unpadPkcs1Type2(em: Buffer): Buffer {
  let good = (em[0] === 0 ? 1 : 0) & (em[1] === 2 ? 1 : 0);
  let sep = 0; // index of the first zero after the header
  let found = 0;
  for (let i = 2; i < em.length; i++) {
    const isZero = em[i] === 0 ? 1 : 0;
    const first = isZero & (found ^ 1);
    sep = first ? i : sep;
    found |= isZero;
  }
  good &= found & (sep >= 10 ? 1 : 0);
  if (!good) throw new UnwrapError();
  return em.subarray(sep + 1);
}

export function unwrapKey(privateKeyPem: string, wrappedHex: string): string {
  let em: Buffer;
  try {
    em = privateDecrypt({ key: privateKeyPem, padding: constants.RSA_NO_PADDING }, Buffer.from(wrappedHex, "hex"));
  } catch {
    throw new UnwrapError();
  }
  return unpadPkcs1Type2(em).toString("utf8");
}
