import { describe, expect, it } from "vitest";
import { decodeParams, filterList, p } from "../../../src/api/ec2/params";
import { Ec2Error } from "../../../src/api/ec2/errors";

const shape = {
  InstanceId: p.list(p.string()),
  MaxResults: p.integer({ min: 5, max: 1000 }),
  DryRun: p.boolean(),
  ImageId: p.string({ required: true }),
  Filter: filterList(),
  IpPermissions: p.list(
    p.struct({ IpProtocol: p.string({ required: true }), Groups: p.list(p.struct({ GroupId: p.string() })) }),
  ),
  Architecture: p.string({ enum: ["i386", "x86_64"] }),
};

function code(pairs: Array<[string, string]>): string {
  try {
    decodeParams(shape, [["ImageId", "emi-1"], ...pairs]);
    return "ok";
  } catch (e) {
    if (e instanceof Ec2Error) return e.code;
    throw e;
  }
}

describe("EC2 parameter decoder", () => {
  it("decodes flattened lists, nested structures, integers and booleans as botocore sends them", () => {
    const v = decodeParams(shape, [
      ["ImageId", "emi-1"],
      ["InstanceId.2", "i-b"],
      ["InstanceId.1", "i-a"],
      ["InstanceId.10", "i-j"],
      ["MaxResults", "50"],
      ["DryRun", "false"],
      ["Filter.1.Name", "tag:Name"],
      ["Filter.1.Value.1", "web"],
      ["Filter.1.Value.2", ""],
      ["IpPermissions.1.IpProtocol", "tcp"],
      ["IpPermissions.1.Groups.1.GroupId", "sg-1"],
    ]);
    expect(v).toEqual({
      ImageId: "emi-1",
      InstanceId: ["i-a", "i-b", "i-j"],
      MaxResults: 50,
      DryRun: false,
      Filter: [{ Name: "tag:Name", Value: ["web", ""] }],
      IpPermissions: [{ IpProtocol: "tcp", Groups: [{ GroupId: "sg-1" }] }],
    });
  });

  it.each([
    [[], "ok"],
    [[["Architecture", "x86_64"]], "ok"],
    [[["Architecture", "sparc"]], "InvalidParameterValue"],
    [[["MaxResults", "4"]], "InvalidParameterValue"],
    [[["MaxResults", "ten"]], "InvalidParameterValue"],
    [[["DryRun", "yes"]], "InvalidParameterValue"],
    [[["InstanceId", "i-a"]], "InvalidParameterValue"],
    [[["InstanceId.0", "i-a"]], "InvalidParameterValue"],
    [[["InstanceId.-1", "i-a"]], "InvalidParameterValue"],
    [[["InstanceId.01", "i-a"]], "InvalidParameterValue"],
    [[["InstanceId.1.x", "i-a"]], "UnknownParameter"],
    [[["Filter.1.Value.1", "x"]], "MissingParameter"],
    [
      [
        ["IpPermissions.1.Groups.1.GroupName", "g"],
        ["IpPermissions.1.IpProtocol", "tcp"],
      ],
      "UnknownParameter",
    ],
    [[["Nope", "1"]], "UnknownParameter"],
    [
      [
        ["InstanceId.1", "a"],
        ["InstanceId.1", "b"],
      ],
      "InvalidParameterValue",
    ],
  ] as Array<[Array<[string, string]>, string]>)("%j → %s", (pairs, expected) => {
    expect(code(pairs)).toBe(expected);
  });

  it("reports a missing required parameter by name", () => {
    expect(() => decodeParams(shape, [])).toThrow("The request must contain the parameter ImageId");
  });
});
