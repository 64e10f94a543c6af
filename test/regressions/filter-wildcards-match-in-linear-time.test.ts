/**
 * Regression (issue 9, findings 2 and 7): EC2 filter wildcards became backtracking
 * regular expressions (a 255-`a` tag and `*a*a*a*a*ab` froze every API for 140 s), and
 * filter values were unbounded (a 50,000-`*` value was a 500). Now a linear-time
 * matcher, equal to the regular-expression meaning on every small case, and bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateKeyPairCommand,
  CreateTagsCommand,
  DescribeKeyPairsCommand,
  DescribeKeyPairsCommandOutput,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { compileWildcard } from "../../src/common/wildcard";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { ec2Client } from "../support/ec2";

/** The meaning of a pattern, by the regular expression it used to be (safe here: tiny inputs). */
const reference = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "su",
  ).test(value);

function* words(alphabet: string[], maxLength: number): Generator<string> {
  yield "";
  let level = [""];
  for (let n = 1; n <= maxLength; n++) {
    level = level.flatMap((w) => alphabet.map((a) => w + a));
    yield* level;
  }
}

describe("the wildcard matcher", () => {
  it("agrees with the regular-expression meaning on every pattern up to 5 and value up to 6 characters", () => {
    const values = [...words(["a", "b"], 6), "ü", "aü", "😀", "a😀b"];
    let checked = 0;
    for (const pattern of words(["a", "b", "*", "?"], 5)) {
      const m = compileWildcard(pattern);
      for (const v of values) {
        expect(m.matches(v), `${JSON.stringify(pattern)} ~ ${JSON.stringify(v)}`).toBe(reference(pattern, v));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100_000);
  });

  it("answers patterns that make backtracking explode (a regex would not finish in the lifetime of this test)", () => {
    const value = "a".repeat(255);
    expect(compileWildcard(`${"*a".repeat(40)}b`).matches(value)).toBe(false);
    expect(compileWildcard(`${"*a".repeat(40)}*`).matches(value)).toBe(true);
    expect(compileWildcard(`${"?".repeat(254)}*a`).matches(value)).toBe(true);
    expect(compileWildcard("*".repeat(50_000)).matches(value)).toBe(true);
  });
});

let t: TestCloud;
let ec2: EC2Client;
let keyName: string;
beforeAll(async () => {
  t = await startTestCloud();
  ec2 = ec2Client(t.ec2Url, await t.createUser(unique("u")));
  keyName = unique("kp");
  const kp = await ec2.send(new CreateKeyPairCommand({ KeyName: keyName }));
  await ec2.send(new CreateTagsCommand({ Resources: [kp.KeyPairId!], Tags: [{ Key: "k", Value: "a".repeat(255) }] }));
});
afterAll(() => t.stop());

const names = (r: DescribeKeyPairsCommandOutput) => (r.KeyPairs ?? []).map((k) => k.KeyName);

describe("filters on the EC2 API", () => {
  it("match the hostile pattern at once and keep the cloud serving", async () => {
    const describe = (value: string) =>
      ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: "tag:k", Values: [value] }] }));
    expect(names(await describe(`${"*a".repeat(20)}b`))).toEqual([]);
    expect(names(await describe(`${"*a".repeat(20)}*`))).toEqual([keyName]);
    expect((await fetch(t.cloud.endpoints.heartbeatUrl)).status).toBe(200);
  });

  it("bound the number and length of values as AWS does (4xx, never a 500)", async () => {
    const send = (values: string[], name = "tag:k") =>
      ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: name, Values: values }] }));
    await expect(send(Array.from({ length: 201 }, (_, i) => `v${i}`))).rejects.toMatchObject({
      name: "FilterLimitExceeded",
      $metadata: { httpStatusCode: 400 },
    });
    expect(names(await send(Array.from({ length: 200 }, (_, i) => `v${i}`)))).toEqual([]);
    await expect(send(["a".repeat(256)])).rejects.toMatchObject({
      name: "InvalidParameterValue",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(send(["*".repeat(50_000)], "key-name")).rejects.toMatchObject({
      name: "InvalidParameterValue",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(send(["*".repeat(50_000)])).rejects.toMatchObject({
      name: "InvalidParameterValue",
      $metadata: { httpStatusCode: 400 },
    });
  });
});
