/**
 * Fuzz tests (fast-check, fixed seeds, bounded runs) of what reads untrusted input:
 * the EC2 Query decoder, the S3 router, the XML reader, the aws-chunked decoder, the
 * filter matcher, the SigV4/SigV2 parsers and the POST policy reader. Each may refuse its input only with
 * its own typed error (which the protocols answer 4xx); anything else — a TypeError,
 * a RangeError from recursion — would be a 500 and fails here.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { parseFormPairs, MalformedQueryError } from "../../src/server/form";
import { decodeParams, filterList, p } from "../../src/api/ec2/params";
import { Ec2Error } from "../../src/api/ec2/errors";
import { applyFilters } from "../../src/api/ec2/filters";
import { routeS3 } from "../../src/api/s3/router";
import { readXml, XmlError } from "../../src/common/xml-reader";
import { compileWildcard } from "../../src/common/wildcard";
import { AwsChunkedDecoder, ChunkedDecodeError } from "../../src/auth/aws-chunked";
import { parseAuthorizationHeader, parseCredential, verifySigV4Header } from "../../src/auth/sigv4";
import { verifyQuerySignature } from "../../src/auth/sigv2";
import { AuthError } from "../../src/auth/errors";
import { readPolicyDocument } from "../../src/api/s3/post-policy";
import { S3Error } from "../../src/api/s3/s3-error";

const RUNS = { seed: 20261201, numRuns: 400 };

/** Runs f; an error must be one of `allowed`. */
function only(allowed: Array<new (...a: never[]) => Error>, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!allowed.some((k) => e instanceof k)) throw e;
  }
}

/** Strings built from the characters parsers care about, plus anything. */
const hostile = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.stringMatching(/^[%.&=+*?<>&;#\\/\x00-\x1f0-9a-fA-F:A-Za-z_-]{0,80}$/),
  fc.constantFrom(
    "constructor",
    "__proto__",
    "hasOwnProperty",
    "valueOf",
    "toString",
    "tag:__proto__",
    "%",
    "%zz",
    "%E0%A4%A",
    "..",
    "&#0;",
    "]]>",
  ),
);

describe("EC2 Query decoding", () => {
  const shape = {
    Filter: filterList(),
    InstanceId: p.list(p.string()),
    MaxResults: p.integer({ min: 5, max: 1000 }),
    DryRun: p.boolean(),
    Placement: p.struct({ AvailabilityZone: p.string() }),
  };
  it("form pairs and parameter trees refuse bad input with their own errors only", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(
              hostile,
              fc.constantFrom(
                "Filter.1.Name",
                "Filter.1.Value.1",
                "Filter.99999.Name",
                "Filter.0.Name",
                "InstanceId.1",
                "Placement.AvailabilityZone",
                "MaxResults",
                "DryRun",
                "Filter.1.Value.__proto__",
              ),
            ),
            hostile,
          ),
          { maxLength: 12 },
        ),
        (pairs) => {
          const text = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
          only([MalformedQueryError], () => parseFormPairs(text));
          only([MalformedQueryError], () => parseFormPairs(pairs.map(([k, v]) => `${k}=${v}`).join("&")));
          only([Ec2Error], () => decodeParams(shape, pairs));
        },
      ),
      RUNS,
    );
  });
});

describe("EC2 filters", () => {
  const items: Array<{ id: string; tags: Record<string, string> }> = [
    { id: "i-1", tags: { a: "x".repeat(255), constructor: "c" } },
    { id: "i-2", tags: {} },
  ];
  it("any filter names and values give a result or an Ec2Error", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ Name: hostile, Value: fc.array(hostile, { maxLength: 5 }) }), { maxLength: 4 }),
        (filters) => {
          only([Ec2Error], () => applyFilters(items, filters, { "instance-id": (i) => i.id }, (i) => i.tags));
        },
      ),
      RUNS,
    );
  });

  it("the wildcard matcher agrees with a reference on random patterns", () => {
    const reference = (pattern: string, value: string) =>
      new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, ".*")
          .replace(/\?/g, ".")}$`,
        "su",
      ).test(value);
    const pat = fc.stringMatching(/^[ab*?]{0,12}$/);
    const val = fc.stringMatching(/^[ab]{0,14}$/);
    fc.assert(
      fc.property(pat, val, (pt, v) => compileWildcard(pt).matches(v) === reference(pt, v)),
      { ...RUNS, numRuns: 2000 },
    );
  });
});

describe("S3 routing", () => {
  it("any method, host, path and query route to an operation or to nothing", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS", "constructor"),
        hostile,
        hostile,
        fc.array(fc.tuple(hostile, hostile), { maxLength: 4 }),
        (method, host, path, query) => {
          const q = new Map(query);
          const op = routeS3(
            {
              method,
              host,
              rawPath: `/${path}`,
              query: q,
              header: (n) => (n === "x-amz-copy-source" ? path : undefined),
            },
            { prefix: "", virtualHostDomain: "walrus.localhost" },
          );
          if (op) expect(typeof op.op).toBe("string");
        },
      ),
      RUNS,
    );
  });
});

describe("the XML reader", () => {
  const fragment: fc.Arbitrary<string> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      hostile.map((s) => s.replace(/[<&]/g, "")),
      fc
        .tuple(fc.constantFrom("a", "Key", "s3:Delete", "x:y"), fc.array(tie("node"), { maxLength: 3 }))
        .map(([n, c]) => `<${n}>${c.join("")}</${n}>`),
      fc.constantFrom(
        "<!DOCTYPE x>",
        "<!ENTITY e 'x'>",
        "&e;",
        "&#x0;",
        "&#65;",
        "<![CDATA[<&>]]>",
        "<!-- c -->",
        "<?pi x?>",
        "<a",
        "</a>",
        "&amp;",
      ),
    ),
  })).node;
  it("returns a tree or an XmlError for anything", () => {
    fc.assert(
      fc.property(fragment, hostile, (doc, noise) => {
        only([XmlError], () => readXml(doc));
        only([XmlError], () => readXml(`<?xml version="1.0"?>${doc}${noise}`));
      }),
      RUNS,
    );
  });
  it("deep documents are an XmlError, not a stack overflow", () => {
    fc.assert(
      fc.property(fc.integer({ min: 33, max: 200_000 }), (n) => {
        expect(() => readXml(`${"<a>".repeat(n)}${"</a>".repeat(n)}`)).toThrow(XmlError);
      }),
      { seed: RUNS.seed, numRuns: 20 },
    );
  });
});

describe("the aws-chunked decoder", () => {
  it("decodes or fails with a ChunkedDecodeError, for any bytes in any pieces", async () => {
    const chunky = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc
        .array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.boolean()), { maxLength: 5 })
        .map((cs) =>
          Buffer.from(
            cs
              .map(([n, good]) => `${n.toString(16)}${good ? "" : ";chunk-signature=zz"}\r\n${"x".repeat(n)}\r\n`)
              .join("") + "0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
          ),
        ),
    );
    await fc.assert(
      fc.asyncProperty(chunky, fc.integer({ min: 1, max: 64 }), fc.boolean(), async (bytes, piece, signed) => {
        const pieces: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += piece) pieces.push(bytes.subarray(i, i + piece));
        const decoder = new AwsChunkedDecoder(
          signed
            ? {
                signingKey: Buffer.alloc(32),
                amzDate: "20261201T000000Z",
                scope: "20261201/us-east-1/s3/aws4_request",
                seedSignature: "0".repeat(64),
              }
            : undefined,
        );
        try {
          await pipeline(Readable.from(pieces), decoder, new Writable({ write: (_c, _e, cb) => cb() }));
        } catch (e) {
          if (!(e instanceof ChunkedDecodeError)) throw e;
        }
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});

describe("signature parsers", () => {
  it("SigV4 Authorization headers and credentials refuse with AuthError only", () => {
    const header = fc.oneof(
      hostile,
      fc
        .tuple(hostile, hostile, hostile)
        .map(([c, h, s]) => `AWS4-HMAC-SHA256 Credential=${c}, SignedHeaders=${h}, Signature=${s}`),
    );
    fc.assert(
      fc.property(header, hostile, (h, c) => {
        only([AuthError], () => parseCredential(c));
        only([AuthError], () => {
          const parsed = parseAuthorizationHeader(h);
          verifySigV4Header(
            {
              method: "GET",
              rawPath: "/",
              query: [],
              header: (n) => (n === "x-amz-date" ? "20261201T000000Z" : n === "host" ? "h" : undefined),
              payloadHash: "UNSIGNED-PAYLOAD",
            },
            parsed,
            {
              now: new Date("2026-12-01T00:00:00Z"),
              maxSkewMs: 900_000,
              doubleEncodePath: true,
              lookupSecret: () => "secret",
            },
          );
        });
      }),
      RUNS,
    );
  });

  it("SigV2/V1 query signatures refuse with AuthError only", () => {
    const params = fc.array(
      fc.tuple(
        fc.oneof(
          hostile,
          fc.constantFrom("AWSAccessKeyId", "Signature", "SignatureVersion", "SignatureMethod", "Timestamp", "Expires"),
        ),
        hostile,
      ),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(params, (ps) => {
        only([AuthError], () =>
          verifyQuerySignature({
            method: "POST",
            host: "h",
            localPort: 8773,
            path: "/services/Eucalyptus",
            params: ps,
            now: new Date(),
            maxSkewMs: 900_000,
            lookupSecret: () => "s",
          }),
        );
      }),
      RUNS,
    );
  });
});

describe("the POST policy reader", () => {
  const field = fc.oneof(fc.constantFrom("$key", "$acl", "$x-amz-meta-a", "key", "$", "$Content-Type"), hostile);
  const value = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant([]),
    fc.constant({}),
  );
  const condition = fc.oneof(
    fc.tuple(
      fc.constantFrom("eq", "starts-with", "content-length-range", "EQ", "matches", ""),
      fc.oneof(field, value),
      fc.oneof(value, field),
    ),
    fc.array(value, { maxLength: 4 }),
    fc.dictionary(fc.oneof(field, fc.constant("__proto__")), value, { maxKeys: 3 }),
    value,
  );
  const doc = fc.oneof(
    fc.record(
      {
        expiration: fc.oneof(fc.constant("2030-01-01T00:00:00Z"), fc.string({ maxLength: 30 }), value),
        conditions: fc.oneof(fc.array(condition, { maxLength: 6 }), value),
      },
      { requiredKeys: [] },
    ),
    value,
  );
  it("reads a document or refuses it with InvalidPolicyDocument; what it reads checks every condition it holds", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          doc.map((d) => Buffer.from(JSON.stringify(d) ?? "").toString("base64")),
          hostile,
        ),
        (b64) => {
          try {
            const p = readPolicyDocument(b64);
            for (const c of p.conditions) {
              if (c.op === "content-length-range")
                expect(Number.isSafeInteger(c.min) && Number.isSafeInteger(c.max) && c.min <= c.max).toBe(true);
              else expect(["eq", "starts-with"]).toContain(c.op);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(S3Error);
            expect((e as S3Error).code).toBe("InvalidPolicyDocument");
          }
        },
      ),
      RUNS,
    );
  });
});
