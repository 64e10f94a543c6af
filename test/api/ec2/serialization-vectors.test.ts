/** The awscli serialization vectors decode against the declared parameter specs of the actions that exist. */
import { describe, expect, it } from "vitest";
import { actionTable } from "../../../src/api/ec2/actions";
import { decodeParams } from "../../../src/api/ec2/params";
import { parseFormPairs } from "../../../src/server/form";
import { loadVectors } from "../../support/http-vectors";

const NOT_ACTION = new Set(["Action", "Version"]);

describe("captured awscli serialization decodes with the action specs", () => {
  const table = actionTable();
  for (const raw of loadVectors().filter((v) => v.name.startsWith("awscli-v2.9.19-serialization/"))) {
    const pairs = parseFormPairs(raw.body);
    const action = pairs.find(([k]) => k === "Action")![1];
    const def = table.get(action);
    it.skipIf(!def)(`${raw.name} (${action})`, () => {
      const input = decodeParams(
        def!.params,
        pairs.filter(([k]) => !NOT_ACTION.has(k)),
      ) as Record<string, unknown>;
      expect(Object.keys(input).length).toBeGreaterThan(0);
      if (action === "AuthorizeSecurityGroupIngress") {
        expect(input).toEqual({
          GroupName: "web",
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
            { IpProtocol: "tcp", FromPort: 80, ToPort: 80, Groups: [{ GroupName: "lb", UserId: "000000000000" }] },
          ],
        });
      }
      if (action === "ImportKeyPair") {
        expect(Buffer.from(String(input.PublicKeyMaterial), "base64").toString()).toMatch(/^ssh-(rsa|ed25519) /);
      }
    });
  }
});
