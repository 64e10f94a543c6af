/**
 * Lifecycle with the AWS SDK on a cloud whose "day" is one second and whose sweeper
 * runs every 0.1 s: objects expire, noncurrent versions go, incomplete uploads are
 * aborted, filters spare what they do not match; and the sweeper's rounds are bounded
 * and resume after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type LifecycleRule,
} from "@aws-sdk/client-s3";
import { startTestCloud, tempDir, type TestCloud } from "../../support/cloud";
import { bucketName, expectS3Error, s3 } from "../../support/s3";
import { openWalrus } from "../../../src/roles/walrus/service";
import { dataDirLayout } from "../../../src/common/data-dir";
import type { Clock } from "../../../src/common/clock";
import { until } from "../../support/until";

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusLifecycleSeconds: 0.1, walrusLifecycleDaySeconds: 1 } });
});
afterAll(() => t.stop());

const eventually = (check: () => Promise<boolean>, what: string, ms = 15_000) => until(check, { what, timeoutMs: ms });
const exists = (b: string, k: string) =>
  s3(t)
    .send(new HeadObjectCommand({ Bucket: b, Key: k }))
    .then(
      () => true,
      () => false,
    );

async function bucketWithRules(Rules: LifecycleRule[], versioned = false): Promise<string> {
  const b = bucketName("lc");
  await s3(t).send(new CreateBucketCommand({ Bucket: b }));
  if (versioned)
    await s3(t).send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }));
  await s3(t).send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules } }));
  return b;
}

describe("lifecycle configuration", () => {
  it("round-trips; bad rules refused; Transition is NotImplemented; delete", async () => {
    const Rules: LifecycleRule[] = [
      {
        ID: "logs",
        Status: "Enabled",
        Filter: { And: { Prefix: "logs/", Tags: [{ Key: "keep", Value: "no" }] } },
        Expiration: { Days: 30 },
      },
      {
        ID: "uploads",
        Status: "Disabled",
        Filter: { Prefix: "" },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      },
      {
        ID: "old",
        Status: "Enabled",
        Filter: { ObjectSizeGreaterThan: 1024 },
        NoncurrentVersionExpiration: { NoncurrentDays: 3 },
      },
    ];
    const b = await bucketWithRules(Rules);
    const got = await s3(t).send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    expect(got.Rules).toEqual(Rules);
    const put = (R: LifecycleRule[]) =>
      s3(t).send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: R } }));
    await expectS3Error(
      put([{ Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 0 } }]),
      "InvalidArgument",
      400,
    );
    await expectS3Error(
      put([{ Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Date: new Date("2026-01-01T12:00:00Z") } }]),
      "InvalidArgument",
      400,
    );
    await expectS3Error(
      put([
        { ID: "x", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } },
        { ID: "x", Status: "Enabled", Filter: { Prefix: "a" }, Expiration: { Days: 1 } },
      ]),
      "InvalidArgument",
      400,
    );
    await expectS3Error(put([{ Status: "Enabled", Filter: { Prefix: "" } }]), "InvalidRequest", 400);
    await expectS3Error(
      put([
        {
          Status: "Enabled",
          Filter: { Tag: { Key: "a", Value: "b" } },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ]),
      "InvalidArgument",
      400,
    );
    await expectS3Error(
      put([{ Status: "Enabled", Filter: { Prefix: "" }, Transitions: [{ Days: 1, StorageClass: "GLACIER" }] }]),
      "NotImplemented",
      501,
    );
    await s3(t).send(new DeleteBucketLifecycleCommand({ Bucket: b }));
    await expectS3Error(
      s3(t).send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })),
      "NoSuchLifecycleConfiguration",
      404,
    );
  });
});

describe("the sweeper applies the rules", () => {
  it("Expiration by days: matching prefix and tags expire; the rest stays", async () => {
    const b = await bucketWithRules([
      {
        Status: "Enabled",
        Filter: { And: { Prefix: "tmp/", Tags: [{ Key: "ttl", Value: "short" }] } },
        Expiration: { Days: 1 },
      },
    ]);
    const c = s3(t);
    await c.send(new PutObjectCommand({ Bucket: b, Key: "tmp/a", Body: "x", Tagging: "ttl=short" }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "tmp/untagged", Body: "x" }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "keep/a", Body: "x", Tagging: "ttl=short" }));
    await eventually(async () => !(await exists(b, "tmp/a")), "tmp/a expires");
    expect([await exists(b, "tmp/untagged"), await exists(b, "keep/a")]).toEqual([true, true]);
  });

  it("Expiration by a date already past expires at once", async () => {
    const b = await bucketWithRules([
      { Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Date: new Date("2020-01-01T00:00:00Z") } },
    ]);
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x" }));
    await eventually(async () => !(await exists(b, "k")), "k expires");
  });

  it("versioned: the current version gets a delete marker, noncurrent versions go, then the lone marker", async () => {
    const b = await bucketWithRules(
      [
        { Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } },
        { Status: "Enabled", Filter: { Prefix: "" }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
      ],
      true,
    );
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "1" }));
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "2" }));
    await eventually(async () => {
      const v = await s3(t).send(new ListObjectVersionsCommand({ Bucket: b }));
      return (v.Versions ?? []).length === 0 && (v.DeleteMarkers ?? []).length === 0;
    }, "every version and the delete marker go");
  });

  it("AbortIncompleteMultipartUpload aborts old uploads under the prefix", async () => {
    const b = await bucketWithRules([
      { Status: "Enabled", Filter: { Prefix: "big/" }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
    await s3(t).send(new CreateMultipartUploadCommand({ Bucket: b, Key: "big/a" }));
    await s3(t).send(new CreateMultipartUploadCommand({ Bucket: b, Key: "small/a" }));
    await eventually(async () => {
      const u = await s3(t).send(new ListMultipartUploadsCommand({ Bucket: b }));
      return (u.Uploads ?? []).map((x) => x.Key).join() === "small/a";
    }, "big/a is aborted, small/a stays");
  });
});

describe("the sweeper's rounds", () => {
  it("examine at most the budget, remember where they stopped, and resume after a restart", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "walrus"), { recursive: true });
    let now = new Date("2026-06-01T00:00:00Z");
    const clock: Clock = { now: () => now };
    const open = () =>
      openWalrus(
        dataDirLayout(dir),
        {
          clock,
          log: pino({ level: "silent" }),
          systemAccount: () => "sys",
          quotas: { maxBucketsPerUser: 0, maxBucketBytes: 0 },
          region: "eucalyptus",
          accountExists: () => true,
        },
        { dayMs: 1000, budget: 10 },
      );
    let w = open();
    const owner = { accountId: "a1", userName: "u", isAdmin: false };
    w.service.createBucket(owner, "bounded", {});
    for (let i = 0; i < 25; i++) {
      const { Readable } = await import("node:stream");
      await w.service.putObject(owner, "bounded", `k${String(i).padStart(2, "0")}`, Readable.from([Buffer.from("x")]), {
        meta: { user: {} },
      });
    }
    w.service.putBucketLifecycle(owner, "bounded", [{ status: "Enabled", filter: {}, expiration: { days: 1 } }]);
    now = new Date(now.getTime() + 5000);
    const count = () => w.service.listObjects(owner, "bounded", { prefix: "", maxKeys: 1000 }).contents.length;
    expect(w.service.lifecycle.round()).toMatchObject({ examined: 10, expired: 10 });
    expect(count()).toBe(15);
    await w.close();
    w = open(); // a restart: the cursor is in walrus.db
    expect(w.service.lifecycle.round()).toMatchObject({ examined: 10, expired: 10 });
    expect(w.service.lifecycle.round()).toMatchObject({ examined: 5, expired: 5 });
    expect(count()).toBe(0);
    await w.close();
  });
});
