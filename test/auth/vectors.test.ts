import { describe, expect, it } from "vitest";
import { authenticateEc2 } from "../../src/api/ec2/auth";
import { AuthError } from "../../src/auth/errors";
import { loadVectors, signedAt, toEc2Request, VECTOR_KEY, VECTOR_SECRET, type RawHttp } from "../support/http-vectors";

const vectors = loadVectors();
const lookupSecret = (k: string) => (k === VECTOR_KEY ? VECTOR_SECRET : undefined);

function verify(raw: RawHttp, now = signedAt(raw)) {
  return authenticateEc2(toEc2Request(raw), { now, lookupSecret });
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof AuthError) return e.reason;
    throw e;
  }
  return "accepted";
}

describe("captured client requests (shared/vectors/ec2-requests)", () => {
  it("holds all 23 captured requests", () => {
    expect(vectors).toHaveLength(23);
  });

  for (const raw of vectors) {
    describe(raw.name, () => {
      it("verifies with the clock fixed at signing time", () => {
        const r = verify(raw);
        expect(r.accessKeyId).toBe(VECTOR_KEY);
        expect(r.signatureVersion).toBe(raw.name.includes("sigv2") ? "2" : "4");
      });

      it("fails when one body byte is altered", () => {
        const altered = { ...raw, body: raw.body.replace("&Version=", "&Version=1") };
        expect(reason(() => verify(altered))).toBe("bad-signature");
      });

      it("fails with another secret", () => {
        expect(
          reason(() =>
            authenticateEc2(toEc2Request(raw), { now: signedAt(raw), lookupSecret: () => "x" + VECTOR_SECRET }),
          ),
        ).toBe("bad-signature");
      });

      it("fails 16 minutes later (15-minute skew window)", () => {
        expect(reason(() => verify(raw, new Date(signedAt(raw).getTime() + 16 * 60_000)))).toBe("expired");
        expect(reason(() => verify(raw, new Date(signedAt(raw).getTime() + 14 * 60_000)))).toBe("accepted");
      });

      it("fails when a signed header is altered", () => {
        const headers = raw.headers.map(
          ([k, v]) => [k, k.toLowerCase() === "host" ? "127.0.0.2:8773" : v] as [string, string],
        );
        expect(reason(() => verify({ ...raw, headers }))).toBe("bad-signature");
      });

      it("fails for an unknown key", () => {
        expect(
          reason(() => authenticateEc2(toEc2Request(raw), { now: signedAt(raw), lookupSecret: () => undefined })),
        ).toBe("unknown-key");
      });
    });
  }
});
