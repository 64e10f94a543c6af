/**
 * Regression (issue 9, finding 6): ConfirmProductInstance with an empty ProductCode
 * answered true with the owner account of any instance id, and told which ids exist
 * in other accounts. Now an empty code matches nothing, and an id that does not
 * exist answers exactly as another account's instance with other codes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfirmProductInstanceCommand, RegisterImageCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../support/bundles";
import type { Creds } from "../support/s3";
import { ec2Client } from "../support/ec2";

let t: TestCloud;
let alice: TestUser;
let mallory: TestUser;
let plain: string;
let coded: string;
const ec2 = (c: Creds) => ec2Client(t.ec2Url, c);

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  alice = await makeUser(t, unique("alice"));
  mallory = await makeUser(t, unique("mallory"));
  const run = async (file: string, codes?: string[]) => {
    const location = await uploadBundle(t, alice, imageFile(file, 50_000), undefined, codes);
    const imageId = (await ec2(alice).send(new RegisterImageCommand({ ImageLocation: location, Name: file }))).ImageId!;
    return (await ec2(alice).send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })))
      .Instances![0]!.InstanceId!;
  };
  plain = await run("plain.img");
  coded = await run("coded.img", ["devpay-7"]);
});
afterAll(() => t.stop());

describe("ConfirmProductInstance", () => {
  it("an empty product code confirms nothing, for anyone", async () => {
    for (const who of [mallory, alice]) {
      for (const id of [plain, coded]) {
        const r = await ec2(who).send(new ConfirmProductInstanceCommand({ InstanceId: id, ProductCode: "" }));
        expect([r.Return, r.OwnerId]).toEqual([false, undefined]);
      }
    }
  });

  it("another account's instance and an id that does not exist look the same", async () => {
    const ask = async (id: string, code: string) => {
      const r = await ec2(mallory).send(new ConfirmProductInstanceCommand({ InstanceId: id, ProductCode: code }));
      return [r.Return, r.OwnerId];
    };
    expect(await ask(plain, "devpay-7")).toEqual([false, undefined]);
    expect(await ask(coded, "guess")).toEqual([false, undefined]);
    expect(await ask("i-00000000", "guess")).toEqual([false, undefined]);
    // The code's vendor (who knows the code) learns the instance's owner, as in EC2.
    expect(await ask(coded, "devpay-7")).toEqual([true, alice.account]);
  });
});
