/** Bad requests each get the right EC2 code and a 4xx, and the server keeps serving. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCloud, type TestCloud } from "../../support/cloud";
import { errorCode, formEncode, post, sigV2Body, sigV4Headers } from "../../support/query-client";

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.stop());

async function stillServing() {
  const body = sigV2Body(t.ec2Url, t.admin, { Action: "DescribeRegions" });
  const r = await post(t.ec2Url, body);
  expect(r.status).toBe(200);
}

async function expectError(r: { status: number; body: string; headers: Headers }, code: string, status: number) {
  expect({ status: r.status, code: errorCode(r.body) }).toEqual({ status, code });
  expect(r.body).toMatch(
    /<Response><Errors><Error><Code>[^<]+<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>/,
  );
  expect(r.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  await stillServing();
}

describe("EC2 front door refuses bad input", () => {
  it("SigV2 with the right secret works (baseline)", async () => {
    const r = await post(t.ec2Url, sigV2Body(t.ec2Url, t.admin, { Action: "DescribeRegions" }));
    expect(r.status).toBe(200);
    expect(r.body).toContain('<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2014-10-01/">');
  });

  it("SigV2 HmacSHA1 and SignatureVersion 1 work too", async () => {
    const r1 = await post(
      t.ec2Url,
      sigV2Body(t.ec2Url, t.admin, { Action: "DescribeRegions" }, { SignatureMethod: "HmacSHA1" }),
    );
    expect(r1.status).toBe(401); // signed with SHA-256 but declared SHA-1: refused
    const { signQuery, stringToSignV2, stringToSignV1 } = await import("../../../src/auth/sigv2");
    const u = new URL(t.ec2Url);
    const base = {
      AWSAccessKeyId: t.admin.accessKeyId,
      Action: "DescribeRegions",
      Version: "2009-11-30",
      Timestamp: new Date().toISOString(),
    };
    const sha1 = { ...base, SignatureMethod: "HmacSHA1", SignatureVersion: "2" };
    const sig1 = signQuery(
      t.admin.secretAccessKey,
      "sha1",
      stringToSignV2("POST", u.host, u.pathname, Object.entries(sha1)),
    );
    expect((await post(t.ec2Url, formEncode({ ...sha1, Signature: sig1 }))).status).toBe(200);
    const v1 = { ...base, SignatureVersion: "1" };
    const sigv1 = signQuery(t.admin.secretAccessKey, "sha1", stringToSignV1(Object.entries(v1)));
    const r = await post(t.ec2Url, formEncode({ ...v1, Signature: sigv1 }));
    expect(r.status).toBe(200);
    expect(r.body).toContain("http://ec2.amazonaws.com/doc/2009-11-30/");
  });

  it("wrong secret → AuthFailure 401", async () => {
    await expectError(
      await post(t.ec2Url, sigV2Body(t.ec2Url, { ...t.admin, secretAccessKey: "nope" }, { Action: "DescribeRegions" })),
      "AuthFailure",
      401,
    );
  });

  it("unknown access key → AuthFailure 401", async () => {
    await expectError(
      await post(
        t.ec2Url,
        sigV2Body(
          t.ec2Url,
          { accessKeyId: "AKIDNOTKNOWN00000000", secretAccessKey: "x" },
          { Action: "DescribeRegions" },
        ),
      ),
      "AuthFailure",
      401,
    );
    const body = formEncode({ Action: "DescribeRegions", Version: "2016-11-15" });
    await expectError(
      await post(
        t.ec2Url,
        body,
        sigV4Headers(t.ec2Url, { accessKeyId: "AKIDNOTKNOWN00000000", secretAccessKey: "x" }, body),
      ),
      "AuthFailure",
      401,
    );
  });

  it("missing Signature → IncompleteSignature 400", async () => {
    const body = sigV2Body(t.ec2Url, t.admin, { Action: "DescribeRegions" }).replace(/&Signature=[^&]*/, "");
    await expectError(await post(t.ec2Url, body), "IncompleteSignature", 400);
  });

  it("no credentials at all → MissingAuthenticationToken 403", async () => {
    await expectError(
      await post(t.ec2Url, "Action=DescribeRegions&Version=2016-11-15"),
      "MissingAuthenticationToken",
      403,
    );
  });

  it("Timestamp 20 minutes old → RequestExpired 400 (SigV2 and SigV4)", async () => {
    const old = new Date(Date.now() - 20 * 60_000);
    await expectError(
      await post(
        t.ec2Url,
        sigV2Body(t.ec2Url, t.admin, { Action: "DescribeRegions" }, { Timestamp: old.toISOString() }),
      ),
      "RequestExpired",
      400,
    );
    const body = formEncode({ Action: "DescribeRegions", Version: "2016-11-15" });
    await expectError(await post(t.ec2Url, body, sigV4Headers(t.ec2Url, t.admin, body, old)), "RequestExpired", 400);
  });

  it("SignatureVersion 3 (and 0) is refused, not skipped as Eucalyptus 1.6.2 did", async () => {
    for (const v of ["3", "0"]) {
      const r = await post(
        t.ec2Url,
        sigV2Body(t.ec2Url, t.admin, { Action: "DescribeRegions" }, { SignatureVersion: v }),
      );
      await expectError(r, "AuthFailure", 401);
      expect(r.body).toMatch(new RegExp(`SignatureVersion (&apos;|')${v}(&apos;|') is not supported`));
    }
  });

  it("malformed Filter.N.Name → InvalidParameterValue / UnknownParameter", async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ "Filter.x.Name": "zone-name" }, "InvalidParameterValue"],
      [{ "Filter.0.Name": "zone-name" }, "InvalidParameterValue"],
      [{ "Filter.1.Nme": "zone-name" }, "UnknownParameter"],
      [{ "Filter.1.Value.1": "x" }, "MissingParameter"],
      [{ "Filter.1.Name.1": "zone-name" }, "UnknownParameter"],
      [{ "Filter..Name": "zone-name" }, "UnknownParameter"],
      [{ Filter: "zone-name" }, "InvalidParameterValue"],
      [{ "Filter.1.Name": "colour", "Filter.1.Value.1": "x" }, "InvalidParameterValue"],
      [{ Bogus: "1" }, "UnknownParameter"],
      [{ DryRun: "maybe" }, "InvalidParameterValue"],
    ];
    for (const [params, code] of cases) {
      await expectError(
        await post(t.ec2Url, sigV2Body(t.ec2Url, t.admin, { Action: "DescribeAvailabilityZones", ...params })),
        code,
        400,
      );
    }
  });

  it("a 10 MB body → RequestEntityTooLarge 413", async () => {
    const body = "Action=DescribeRegions&Version=2016-11-15&Pad=" + "a".repeat(10 * 1024 * 1024);
    await expectError(await post(t.ec2Url, body), "RequestEntityTooLarge", 413);
  });

  it("invalid UTF-8 → MalformedQueryString 400 (percent-escaped and raw bytes)", async () => {
    await expectError(
      await post(t.ec2Url, "Action=DescribeRegions&Version=2016-11-15&X=%C3%28"),
      "MalformedQueryString",
      400,
    );
    await expectError(
      await post(t.ec2Url, Buffer.from([...Buffer.from("Action=DescribeRegions&X="), 0xff, 0xfe])),
      "MalformedQueryString",
      400,
    );
    await expectError(await post(t.ec2Url, "Action=DescribeRegions&X=%G1"), "MalformedQueryString", 400);
  });

  it("unknown action → InvalidAction; missing Action → MissingAction; missing Version → MissingParameter", async () => {
    await expectError(
      await post(t.ec2Url, sigV2Body(t.ec2Url, t.admin, { Action: "LaunchRockets" })),
      "InvalidAction",
      400,
    );
    const noAction = sigV2Body(t.ec2Url, t.admin, {});
    await expectError(await post(t.ec2Url, noAction), "MissingAction", 400);
    const body = formEncode({ Action: "DescribeRegions" });
    await expectError(await post(t.ec2Url, body, sigV4Headers(t.ec2Url, t.admin, body)), "MissingParameter", 400);
  });

  it("a parameter given twice → InvalidParameterValue", async () => {
    const body = "Action=DescribeRegions&Version=2016-11-15&RegionName.1=a&RegionName.1=b";
    await expectError(await post(t.ec2Url, body, sigV4Headers(t.ec2Url, t.admin, body)), "InvalidParameterValue", 400);
  });

  it("GET with the signature in the query string works", async () => {
    const q = sigV2Body(t.ec2Url, t.admin, { Action: "DescribeRegions" });
    const u = new URL(t.ec2Url);
    const { signQuery, stringToSignV2 } = await import("../../../src/auth/sigv2");
    const params = Object.fromEntries(new URLSearchParams(q));
    delete params.Signature;
    const sig = signQuery(
      t.admin.secretAccessKey,
      "sha256",
      stringToSignV2("GET", u.host, u.pathname, Object.entries(params)),
    );
    const res = await fetch(`${t.ec2Url}?${formEncode({ ...params, Signature: sig })}`);
    expect(res.status).toBe(200);
  });

  it("never logs secrets or signatures", async () => {
    await post(t.ec2Url, sigV2Body(t.ec2Url, t.admin, { Action: "DescribeRegions" }));
    const logs = t.logs();
    expect(logs).toContain('"action":"DescribeRegions"');
    expect(logs).not.toContain(t.admin.secretAccessKey);
    expect(logs).not.toMatch(/Signature=/);
    for (const line of logs.trim().split("\n")) {
      const entry = JSON.parse(line);
      if (entry.msg === "request" && entry.api === "ec2") {
        expect(Object.keys(entry)).toEqual(
          expect.arrayContaining(["requestId", "api", "action", "status", "ms", "user"]),
        );
      }
    }
  });
});
