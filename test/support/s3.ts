import { S3Client } from "@aws-sdk/client-s3";
import type { TestCloud } from "./cloud";

export type Creds = { accessKeyId: string; secretAccessKey: string };

/** An SDK client on the S3 root port, path-style, no retries. */
export function s3(t: TestCloud, creds: Creds = t.admin, endpoint = t.cloud.endpoints.s3Url): S3Client {
  return new S3Client({ endpoint, region: "us-east-1", credentials: creds, forcePathStyle: true, maxAttempts: 1 });
}

export async function bodyText(b: { transformToString(): Promise<string> } | undefined): Promise<string> {
  return b ? b.transformToString() : "";
}

let n = 0;
export function bucketName(prefix = "b"): string {
  return `${prefix}-${process.pid}-${++n}-${Date.now() % 100000}`.toLowerCase();
}

/** Expects the promise to fail with this S3 error code and HTTP status. */
export async function expectS3Error(p: Promise<unknown>, code: string, status: number): Promise<void> {
  try {
    await p;
  } catch (e) {
    const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    const got = { code: err.Code ?? err.name, status: err.$metadata?.httpStatusCode };
    if (got.code !== code || got.status !== status)
      throw new Error(`expected ${code}/${status}, got ${JSON.stringify(got)}: ${(e as Error).message}`, { cause: e });
    return;
  }
  throw new Error(`expected ${code}/${status}, but the call succeeded`);
}
