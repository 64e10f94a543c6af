/**
 * The user endpoints over HTTPS (TLS=on, here on loopback; auto turns it on for any other
 * address — test/e2e/https-clients.test.ts): the AWS SDK v3 trusting only the cloud CA
 * reaches EC2, STS and S3; without that CA it refuses the server; plain HTTP to the same
 * port reaches guests' metadata and the heartbeat and is told to use HTTPS for anything
 * else; credentials name the CA as AWS_CA_BUNDLE.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { DescribeAvailabilityZonesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { tokensUrl } from "../../src/config/endpoints";
import { startTestCloud, type TestCloud } from "../support/cloud";
import { bodyText, bucketName } from "../support/s3";

let t: TestCloud;
let ca: string;

beforeAll(async () => {
  t = await startTestCloud({ settings: { tls: "on" } });
  ca = readFileSync(t.cloud.layout.cloudCert, "utf8");
});
afterAll(() => t?.stop());

/** A client that trusts the given certificates and no others. */
const trusting = (pem: string | undefined) => ({
  requestHandler: new NodeHttpHandler({ httpsAgent: new Agent(pem ? { ca: pem } : {}) }),
  region: "eucalyptus",
  maxAttempts: 1,
});

describe("TLS=on: the user endpoints speak HTTPS with a certificate from the cloud CA", () => {
  it("the endpoints are https (metadata and heartbeat plain HTTP on the same port)", () => {
    const e = t.cloud.endpoints;
    expect(e.ec2Url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/services\/Eucalyptus$/);
    expect(e.s3Url).toMatch(/^https:\/\//);
    expect(e.cloudCaTls).toBe(true);
    expect(e.metadataUrl).toBe(`http://127.0.0.1:${new URL(e.ec2Url).port}`);
    expect(e.heartbeatUrl).toBe(`${e.metadataUrl}/services/Heartbeat`);
  });

  it("the SDK trusting only the cloud CA calls EC2, STS and S3", async () => {
    const ec2 = new EC2Client({ endpoint: t.cloud.endpoints.ec2Url, credentials: t.admin, ...trusting(ca) });
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(zones.AvailabilityZones?.map((z) => z.ZoneName)).toEqual(["cluster1"]);
    const sts = new STSClient({ endpoint: tokensUrl(t.cloud.endpoints), credentials: t.admin, ...trusting(ca) });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toMatch(/:user\/admin$/);
    const s3 = new S3Client({
      endpoint: t.cloud.endpoints.s3Url,
      credentials: t.admin,
      forcePathStyle: true,
      ...trusting(ca),
      region: "us-east-1",
    });
    const b = bucketName("tls");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "over TLS" }));
    expect(await bodyText((await s3.send(new GetObjectCommand({ Bucket: b, Key: "k" }))).Body)).toBe("over TLS");
  });

  it("a client that does not trust the cloud CA refuses the server; plain HTTP is told to use HTTPS", async () => {
    const ec2 = new EC2Client({ endpoint: t.cloud.endpoints.ec2Url, credentials: t.admin, ...trusting(undefined) });
    await expect(ec2.send(new DescribeAvailabilityZonesCommand({}))).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/),
    });
    const plain = t.cloud.endpoints.ec2Url.replace(/^https:/, "http:");
    const r = await fetch(plain, { method: "POST", body: "Action=DescribeRegions" });
    expect(r.status).toBe(400);
    expect(await r.text()).toBe(`This endpoint speaks HTTPS: use ${t.cloud.endpoints.ec2Url}\n`);
    const s3 = await fetch(`${t.cloud.endpoints.s3Url.replace(/^https:/, "http:")}/b/k`, { method: "PUT", body: "x" });
    expect(s3.status).toBe(400);
    expect(await s3.text()).toBe(`This endpoint speaks HTTPS: use ${t.cloud.endpoints.s3Url}/b/k\n`);
  });

  it("guests' metadata answers in plain HTTP on the EC2 port, and over HTTPS too", async () => {
    // The metadata service's own answer to a token request without a TTL (IMDSv2): proof that it is what answers.
    const ask = (base: string, init: RequestInit = {}) => fetch(`${base}/latest/api/token`, { method: "PUT", ...init });
    const md = await ask(t.cloud.endpoints.metadataUrl!);
    expect(md.status).toBe(400);
    expect(await md.text()).toContain("X-aws-ec2-metadata-token-ttl-seconds must be");
    const heartbeat = await fetch(t.cloud.endpoints.heartbeatUrl);
    expect(heartbeat.status).toBe(200);
    expect(await heartbeat.text()).toContain("clc=ready");
    // The TLS side serves everything the plain one does.
    const onMain = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(t.cloud.endpoints.ec2Url);
      const req = request({ host: u.hostname, port: u.port, path: "/latest/api/token", method: "PUT", ca }, (r) => {
        let body = "";
        r.on("data", (d) => (body += d));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(onMain.body).toContain("X-aws-ec2-metadata-token-ttl-seconds must be");
  });

  it("credentials name the cloud CA as AWS_CA_BUNDLE; the certificate names the S3 domain's buckets", () => {
    const eucarc = readFileSync(join(t.dataDir, "credentials", "admin", "eucarc"), "utf8");
    expect(eucarc).toMatch(/^export EC2_URL='https:\/\//m);
    expect(eucarc).toContain('export AWS_CA_BUNDLE="${EUCA_KEY_DIR}/cloud-cert.pem"');
    const cert = new X509Certificate(readFileSync(join(t.cloud.layout.webDir, "server-cert.pem")));
    expect(cert.subjectAltName).toContain("DNS:*.walrus.localhost");
    // boto 2 (euca2ools) matches only DNS entries: the IPv4 address is one too (test/e2e/site.test.ts runs boto 2 on it).
    expect(cert.subjectAltName).toContain("DNS:127.0.0.1");
    expect(cert.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(cert.checkIssued(new X509Certificate(ca))).toBe(true);
  });
});
