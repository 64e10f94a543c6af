/** One contract for WalrusClient, run against the in-process and the signed-HTTP transport. */
import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { createHash, randomBytes } from "node:crypto";
import type { WalrusClient } from "../../src/roles/walrus/client";
import { NotFoundError } from "../../src/common/errors";

const ctx = { requestId: "req-walrus-contract" };

export function walrusClientContract(
  name: string,
  setup: () => Promise<{ client: WalrusClient; teardown(): Promise<void> }>,
) {
  describe(`WalrusClient over ${name}`, () => {
    it("ensureBucket is idempotent; put, head, get (stream), delete", async () => {
      const { client, teardown } = await setup();
      try {
        const bucket = `snapshots-${name.replace(/\W/g, "").toLowerCase()}`;
        await client.ensureBucket(bucket, ctx);
        await client.ensureBucket(bucket, ctx);
        expect(await client.bucketOwner(bucket, ctx)).toMatch(/^\d{12}$/);
        const data = randomBytes(3 * 1024 * 1024 + 17);
        const put = await client.putObject(
          { bucket, key: "snap-1/blob" },
          {
            open: () => Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
            size: data.length,
            contentType: "application/x-snapshot",
          },
          ctx,
        );
        expect(put.etag).toBe(`"${createHash("md5").update(data).digest("hex")}"`);
        const head = await client.headObject({ bucket, key: "snap-1/blob" }, ctx);
        expect(head).toMatchObject({ size: data.length, etag: put.etag, contentType: "application/x-snapshot" });
        const got = await client.getObject({ bucket, key: "snap-1/blob" }, ctx);
        const chunks: Buffer[] = [];
        for await (const c of got.body) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).equals(data)).toBe(true);
        await client.deleteObject({ bucket, key: "snap-1/blob" }, ctx);
        await expect(client.headObject({ bucket, key: "snap-1/blob" }, ctx)).rejects.toBeInstanceOf(NotFoundError);
        await expect(client.getObject({ bucket: "no-such-bucket-x", key: "k" }, ctx)).rejects.toMatchObject({
          kind: "NotFound",
          resource: "bucket",
        });
      } finally {
        await teardown();
      }
    });

    it("a body shorter than declared is refused and stores nothing", async () => {
      const { client, teardown } = await setup();
      try {
        const bucket = `short-${name.replace(/\W/g, "").toLowerCase()}`;
        await client.ensureBucket(bucket, ctx);
        await expect(
          client.putObject({ bucket, key: "k" }, { open: () => Readable.from([Buffer.from("abc")]), size: 10 }, ctx),
        ).rejects.toMatchObject({ code: "IncompleteBody" });
        await expect(client.headObject({ bucket, key: "k" }, ctx)).rejects.toBeInstanceOf(NotFoundError);
      } finally {
        await teardown();
      }
    });
  });
}
