/**
 * Decrypted images, as nodes fetch them (Eucalyptus' GetDecryptedImage): a bundle is
 * decrypted once into the cache, then served from there. Entries are named by the
 * manifest's location and ETag (a re-uploaded bundle is a new entry); the cache is
 * bounded in bytes (least recently used evicted) and concurrent requests for one
 * image share a single decryption.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { unbundle } from "../../bundle/unbundle";
import { FileCache, type CachedFile } from "../../common/file-cache";
import type { Requester } from "./acl";
import type { WalrusService } from "./service";

export class ImageCache {
  private readonly files: FileCache;

  constructor(
    dir: string,
    maxBytes: number,
    private readonly walrus: WalrusService,
    private readonly system: () => Requester,
    private readonly cloudKeyPem: () => string,
  ) {
    this.files = new FileCache(dir, maxBytes, "image cache");
  }

  /** The decrypted image of the bundle whose manifest is bucket/key. */
  get(bucket: string, key: string): Promise<CachedFile> {
    const manifest = this.walrus.readable(this.system(), bucket, key);
    const name = `${createHash("sha256").update(`${bucket}/${key}/${manifest.etag}`).digest("hex")}.img`;
    return this.files.get(name, async () => {
      const chunks: Buffer[] = [];
      for await (const c of this.walrus.open(manifest)) chunks.push(c as Buffer);
      const manifestXml = Buffer.concat(chunks).toString("utf8");
      return {
        size: Number(/<size>(\d+)<\/size>/.exec(manifestXml)?.[1] ?? 0),
        write: async (tmp) => {
          await unbundle({
            manifestXml,
            cloudKeyPem: this.cloudKeyPem(),
            out: createWriteStream(tmp, { mode: 0o600 }),
            openPart: async (filename) => this.walrus.open(this.walrus.readable(this.system(), bucket, filename)),
          });
        },
      };
    });
  }
}
