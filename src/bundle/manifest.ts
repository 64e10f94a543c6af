/**
 * The ec2-bundle-image manifest (reference §2.6): rendering, parsing, and the
 * signature over the byte-exact <machine_configuration> and <image> elements.
 */
import { createSign, createVerify, X509Certificate } from "node:crypto";
import { XMLParser } from "fast-xml-parser";

export interface ManifestPart {
  filename: string;
  sha1: string;
}

export interface Manifest {
  architecture: string;
  kernelId?: string; // an eki id, or "true" for a kernel image
  ramdiskId?: string; // an eri id, or "true" for a ramdisk image
  blockDeviceMappings?: Array<{ virtual: string; device: string }>;
  productCodes?: string[];
  name: string;
  user: string;
  sha1: string; // of the unencrypted image
  size: number; // of the unencrypted image
  bundledSize: number; // of the encrypted stream
  ec2EncryptedKey: string;
  userEncryptedKey: string;
  ec2EncryptedIv: string;
  userEncryptedIv: string;
  parts: ManifestPart[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function machineConfiguration(m: Manifest): string {
  const bdm = m.blockDeviceMappings?.length
    ? `<block_device_mapping>${m.blockDeviceMappings.map((b) => `<mapping><virtual>${esc(b.virtual)}</virtual><device>${esc(b.device)}</device></mapping>`).join("")}</block_device_mapping>`
    : "";
  const codes = m.productCodes?.length
    ? `<product_codes>${m.productCodes.map((c) => `<product_code>${esc(c)}</product_code>`).join("")}</product_codes>`
    : "";
  return (
    `<machine_configuration><architecture>${esc(m.architecture)}</architecture>${bdm}${codes}` +
    `${m.kernelId ? `<kernel_id>${esc(m.kernelId)}</kernel_id>` : ""}${m.ramdiskId ? `<ramdisk_id>${esc(m.ramdiskId)}</ramdisk_id>` : ""}</machine_configuration>`
  );
}

function image(m: Manifest): string {
  return (
    `<image><name>${esc(m.name)}</name><user>${esc(m.user)}</user><type>machine</type>` +
    `<digest algorithm="SHA1">${m.sha1}</digest><size>${m.size}</size><bundled_size>${m.bundledSize}</bundled_size>` +
    `<ec2_encrypted_key algorithm="AES-128-CBC">${m.ec2EncryptedKey}</ec2_encrypted_key>` +
    `<user_encrypted_key algorithm="AES-128-CBC">${m.userEncryptedKey}</user_encrypted_key>` +
    `<ec2_encrypted_iv>${m.ec2EncryptedIv}</ec2_encrypted_iv><user_encrypted_iv>${m.userEncryptedIv}</user_encrypted_iv>` +
    `<parts count="${m.parts.length}">${m.parts.map((p, i) => `<part index="${i}"><filename>${esc(p.filename)}</filename><digest algorithm="SHA1">${p.sha1}</digest></part>`).join("")}</parts></image>`
  );
}

/** The manifest document, signed with the user's private key (RSA-SHA1, hex). */
export function renderManifest(m: Manifest, userKeyPem: string): string {
  const mc = machineConfiguration(m);
  const img = image(m);
  const signature = createSign("RSA-SHA1")
    .update(mc + img)
    .sign(userKeyPem, "hex");
  return `<?xml version="1.0" ?>\n<manifest><version>2007-10-10</version><bundler><name>euca</name><version>${__EUCA_VERSION__}</version><release>1</release></bundler>${mc}${img}<signature>${signature}</signature></manifest>\n`;
}

export class ManifestError extends Error {}

/** The signed text: the first <machine_configuration> and <image> elements exactly as they appear. */
function signedText(xml: string): string {
  const mc = /<machine_configuration>[\s\S]*?<\/machine_configuration>/.exec(xml)?.[0];
  const img = /<image>[\s\S]*?<\/image>/.exec(xml)?.[0];
  if (!mc || !img) throw new ManifestError("the manifest has no machine_configuration or image element");
  return mc + img;
}

export function parseManifest(xml: string): Manifest & { signature: string } {
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    parseTagValue: false,
    isArray: (n) => ["part", "mapping", "product_code"].includes(n),
  }).parse(xml) as {
    manifest?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const m = doc.manifest;
  if (!m?.image || !m.machine_configuration || !m.signature) throw new ManifestError("not an image manifest");
  const text = (v: unknown) =>
    typeof v === "object" && v !== null ? String((v as Record<string, unknown>)["#text"] ?? "") : String(v ?? "");
  const img = m.image;
  const mc = m.machine_configuration;
  const parts = (img.parts?.part ?? []) as Array<Record<string, unknown>>;
  return {
    architecture: text(mc.architecture) || "i386",
    kernelId: mc.kernel_id !== undefined ? text(mc.kernel_id) : undefined,
    ramdiskId: mc.ramdisk_id !== undefined ? text(mc.ramdisk_id) : undefined,
    blockDeviceMappings: (mc.block_device_mapping?.mapping ?? []).map((b: Record<string, unknown>) => ({
      virtual: text(b.virtual),
      device: text(b.device),
    })),
    productCodes: (mc.product_codes?.product_code ?? []).map(text),
    name: text(img.name),
    user: text(img.user),
    sha1: text(img.digest),
    size: Number(text(img.size)),
    bundledSize: Number(text(img.bundled_size)),
    ec2EncryptedKey: text(img.ec2_encrypted_key),
    userEncryptedKey: text(img.user_encrypted_key),
    ec2EncryptedIv: text(img.ec2_encrypted_iv),
    userEncryptedIv: text(img.user_encrypted_iv),
    parts: parts
      .sort((a, b) => Number(a["@_index"]) - Number(b["@_index"]))
      .map((p) => ({ filename: text(p.filename), sha1: text(p.digest) })),
    signature: text(m.signature),
  };
}

/** True when one of the owner's certificates verifies the manifest's signature. */
export function verifyManifestSignature(xml: string, certificatesPem: readonly string[]): boolean {
  const { signature } = parseManifest(xml);
  const data = signedText(xml);
  return certificatesPem.some((pem) => {
    try {
      return createVerify("RSA-SHA1")
        .update(data)
        .verify(new X509Certificate(pem).publicKey, Buffer.from(signature, "hex"));
    } catch {
      return false;
    }
  });
}
