/**
 * The node's cache of decrypted images (Eucalyptus' get_cached_file, reference §5.2):
 * fetched from Walrus once, checked against the size Walrus reports, kept under a
 * byte budget with least-recently-used eviction, shared by concurrent stagings.
 */
import { createWriteStream, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { CallContext } from "../../rpc/types";
import { UnavailableError } from "../../common/errors";
import { FileCache } from "../../common/file-cache";
import type { WalrusClient } from "../walrus/client";
import type { ImageRef } from "./client";

export class NodeImageCache {
  private readonly files: FileCache;

  constructor(
    dir: string,
    maxBytes: number,
    private readonly walrus: () => WalrusClient | undefined,
  ) {
    this.files = new FileCache(dir, maxBytes, "node's image cache");
  }

  /** Path of the cached image file, fetching it first when needed. */
  async fetch(image: ImageRef, ctx: CallContext): Promise<string> {
    const cached = await this.files.get(image.id, async () => {
      const walrus = this.walrus();
      if (!walrus) throw new UnavailableError("Walrus is not reachable from this node");
      const got = await walrus.getDecryptedImage({ bucket: image.bucket, key: image.manifestKey }, ctx);
      return {
        size: got.size,
        write: async (tmp) => {
          await pipeline(got.body, createWriteStream(tmp, { mode: 0o600 }));
          if (statSync(tmp).size !== got.size) throw new UnavailableError(`image ${image.id} arrived incomplete`);
        },
      };
    });
    return cached.path;
  }
}
