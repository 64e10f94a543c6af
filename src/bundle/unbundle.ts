/**
 * Turning a bundle back into the image, as Walrus does before nodes can boot it
 * (reference §2.7): parts checked against their SHA-1s, key and IV unwrapped with the
 * cloud's private key, AES-128-CBC decrypted, gunzipped, the single tar entry
 * extracted and checked against the manifest's size and SHA-1.
 */
import { createDecipheriv, createHash } from "node:crypto";
import { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Parser } from "tar";
import { parseManifest, ManifestError } from "./manifest";
import { unwrapKey } from "./rsa-wrap";

export interface UnbundleOptions {
  manifestXml: string;
  /** Opens one part (an object next to the manifest). */
  openPart(filename: string): Promise<Readable>;
  cloudKeyPem: string;
  /** Receives the image bytes. */
  out: Writable;
}

export async function unbundle(o: UnbundleOptions): Promise<{ size: number; sha1: string }> {
  const m = parseManifest(o.manifestXml);
  if (m.parts.length === 0) throw new ManifestError("the manifest lists no parts");
  const key = Buffer.from(unwrapKey(o.cloudKeyPem, m.ec2EncryptedKey), "hex");
  const iv = Buffer.from(unwrapKey(o.cloudKeyPem, m.ec2EncryptedIv), "hex");
  if (key.length !== 16 || iv.length !== 16) throw new ManifestError("the wrapped key or IV is not 128 bits");

  async function* parts() {
    for (const p of m.parts) {
      const h = createHash("sha1");
      for await (const chunk of await o.openPart(p.filename)) {
        h.update(chunk as Buffer);
        yield chunk as Buffer;
      }
      if (h.digest("hex") !== p.sha1.toLowerCase())
        throw new ManifestError(`part ${p.filename} does not match its digest`);
    }
  }

  const imageHash = createHash("sha1");
  let size = 0;
  let entries = 0;
  let extraction: Promise<void> = Promise.resolve();
  const parser = new Parser({
    onReadEntry: (entry) => {
      entries++;
      if (entries > 1 || entry.type !== "File") {
        entry.resume();
        return;
      }
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          imageHash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      extraction = pipeline(entry as unknown as NodeJS.ReadableStream, counter, o.out);
    },
  });
  await pipeline(
    Readable.from(parts()),
    createDecipheriv("aes-128-cbc", key, iv),
    createGunzip(),
    parser as unknown as NodeJS.WritableStream,
  );
  await extraction;
  const sha1 = imageHash.digest("hex");
  if (entries !== 1) throw new ManifestError(`the bundle holds ${entries} tar entries; one image file was expected`);
  if (size !== m.size || sha1 !== m.sha1.toLowerCase())
    throw new ManifestError("the decrypted image does not match the manifest's size and digest");
  return { size, sha1 };
}
