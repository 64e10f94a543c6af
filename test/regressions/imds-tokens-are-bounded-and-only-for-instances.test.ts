/**
 * Regression (issue 9, finding 9): the IMDSv2 token store was unbounded, handed
 * tokens to callers that are no instance (127.0.0.1), and scanned every token on
 * each PUT (a flood slowed it to 180 tokens/s and the heartbeat from 1 to 85 ms).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegisterImageCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { MAX_TOKENS, MetadataTokens, PER_INSTANCE } from "../../src/api/metadata/tokens";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { imageFile, makeUser, uploadBundle } from "../support/bundles";
import { metadataRequest } from "../support/metadata";
import { ec2Client } from "../support/ec2";

describe("the token store", () => {
  it("keeps at most PER_INSTANCE live tokens per instance, the newest", () => {
    const s = new MetadataTokens();
    const tokens = Array.from({ length: PER_INSTANCE + 10 }, () => s.issue("i-1", "10.0.0.1", 60, 0));
    expect(s.size).toBe(PER_INSTANCE);
    expect(tokens.slice(0, 10).map((t) => s.valid(t, "i-1", "10.0.0.1", 1))).toEqual(Array(10).fill(false));
    expect(tokens.slice(10).every((t) => s.valid(t, "i-1", "10.0.0.1", 1))).toBe(true);
  });

  it("binds a token to its instance and address, and expires it", () => {
    const s = new MetadataTokens();
    const t = s.issue("i-1", "10.0.0.1", 10, 1_000);
    expect(s.valid(t, "i-1", "10.0.0.1", 10_999)).toBe(true);
    expect(s.valid(t, "i-2", "10.0.0.1", 2_000)).toBe(false); // the address now belongs to another instance
    expect(s.valid(t, "i-1", "10.0.0.2", 2_000)).toBe(false);
    expect(s.valid(t, "i-1", "10.0.0.1", 11_000)).toBe(false);
    expect(s.size).toBe(0); // an expired token presented is dropped
  });

  it("never holds more than MAX_TOKENS, however many instances ask", () => {
    const s = new MetadataTokens();
    for (let i = 0; i < MAX_TOKENS + 1000; i++) s.issue(`i-${i}`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 60, 0);
    expect(s.size).toBe(MAX_TOKENS);
  });

  it("sweeps expired tokens of instances that never come back", () => {
    const s = new MetadataTokens();
    for (let i = 0; i < 500; i++) s.issue(`i-${i}`, "10.0.0.1", 1, 0);
    s.issue("i-x", "10.0.0.2", 60, 120_000);
    expect(s.size).toBe(1);
  });
});

let t: TestCloud;
let ip: string;
const call = (method: string, path: string, from: string, headers: Record<string, string> = {}) =>
  metadataRequest(t.ec2Url, method, path, from, headers);

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  const alice = await makeUser(t, unique("alice"));
  const ec2 = ec2Client(t.ec2Url, alice);
  const imageId = (
    await ec2.send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, alice, imageFile("root.img", 50_000)),
        Name: "r",
      }),
    )
  ).ImageId!;
  ip = (await ec2.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 }))).Instances![0]!
    .PrivateIpAddress!;
});
afterAll(() => t.stop());

describe("PUT /latest/api/token", () => {
  it("gives a caller that is no instance nothing", async () => {
    expect(
      (await call("PUT", "/latest/api/token", "127.0.0.1", { "x-aws-ec2-metadata-token-ttl-seconds": "60" })).status,
    ).toBe(404);
  });

  it("under a flood keeps an instance's newest tokens working and its oldest not", async () => {
    const ttl = { "x-aws-ec2-metadata-token-ttl-seconds": "300" };
    const first = (await call("PUT", "/latest/api/token", ip, ttl)).body;
    let last = "";
    for (let i = 0; i < 300; i++) last = (await call("PUT", "/latest/api/token", ip, ttl)).body;
    expect((await call("GET", "/latest/meta-data/local-ipv4", ip, { "x-aws-ec2-metadata-token": last })).body).toBe(ip);
    expect((await call("GET", "/latest/meta-data/local-ipv4", ip, { "x-aws-ec2-metadata-token": first })).status).toBe(
      401,
    );
    expect((await fetch(t.cloud.endpoints.heartbeatUrl)).status).toBe(200);
  });
});
