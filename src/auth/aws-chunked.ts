/**
 * Decoder of the `aws-chunked` content encoding (SigV4 streaming uploads):
 *   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n … 0[;chunk-signature=<sig>]\r\n[<trailers>\r\n]\r\n
 * With a seed signature every chunk's signature is checked against the previous
 * one (STREAMING-AWS4-HMAC-SHA256-PAYLOAD); trailing checksums are returned for the
 * caller to check. Data is passed on as it arrives; a bad chunk fails the stream,
 * so nothing after it is ever committed. The encoder below writes the same format.
 */
import { createHash, createHmac } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { safeEqual } from "./crypto";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const MAX_HEADER_LINE = 4096;

export interface ChunkSigning {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  seedSignature: string;
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the trailers carry x-amz-trailer-signature, chained to the last chunk's. */
  signedTrailer?: boolean;
}

/** The signature of the trailers: chained to the final chunk's, over the SHA-256 of `name:value\n` lines. */
export function trailerSignature(
  signing: ChunkSigning,
  previous: string,
  trailers: ReadonlyMap<string, string>,
): string {
  const canonical = [...trailers].map(([k, v]) => `${k}:${v}\n`).join("");
  const sts = [
    "AWS4-HMAC-SHA256-TRAILER",
    signing.amzDate,
    signing.scope,
    previous,
    createHash("sha256").update(canonical).digest("hex"),
  ].join("\n");
  return createHmac("sha256", signing.signingKey).update(sts).digest("hex");
}

/** The signature of one chunk: chained to the previous one (the seed for the first), over the chunk's SHA-256. */
export function chunkSignature(signing: ChunkSigning, previous: string, dataSha256Hex: string): string {
  const sts = ["AWS4-HMAC-SHA256-PAYLOAD", signing.amzDate, signing.scope, previous, EMPTY_SHA256, dataSha256Hex].join(
    "\n",
  );
  return createHmac("sha256", signing.signingKey).update(sts).digest("hex");
}

export class ChunkedDecodeError extends Error {
  constructor(
    readonly kind: "signature" | "format",
    message: string,
  ) {
    super(message);
  }
}

type State = "header" | "data" | "data-end" | "trailer" | "done";

export class AwsChunkedDecoder extends Transform {
  private state: State = "header";
  private buf: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private chunkSig = "";
  private prevSig: string;
  private hash = createHash("sha256");
  readonly trailers = new Map<string, string>();
  private trailerSig: string | undefined;
  decodedBytes = 0;

  constructor(private readonly signing?: ChunkSigning) {
    super();
    this.prevSig = signing?.seedSignature ?? "";
  }

  private verifyChunk(): void {
    if (!this.signing) return;
    const expected = chunkSignature(this.signing, this.prevSig, this.hash.digest("hex"));
    if (!safeEqual(expected, this.chunkSig))
      throw new ChunkedDecodeError("signature", "The chunk signature does not match");
    this.prevSig = expected;
    this.hash = createHash("sha256");
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.drain();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  private line(): string | undefined {
    const i = this.buf.indexOf("\r\n");
    if (i < 0) {
      if (this.buf.length > MAX_HEADER_LINE) throw new ChunkedDecodeError("format", "aws-chunked header line too long");
      return undefined;
    }
    const l = this.buf.subarray(0, i).toString("latin1");
    this.buf = this.buf.subarray(i + 2);
    return l;
  }

  private drain(): void {
    for (;;) {
      if (this.state === "header") {
        const l = this.line();
        if (l === undefined) return;
        const m = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(l);
        if (!m) throw new ChunkedDecodeError("format", `Malformed aws-chunked header '${l.slice(0, 80)}'`);
        if (this.signing && !m[2]) throw new ChunkedDecodeError("signature", "A chunk signature is missing");
        this.remaining = parseInt(m[1]!, 16);
        this.chunkSig = m[2] ?? "";
        if (this.remaining === 0) {
          this.verifyChunk();
          this.state = "trailer";
        } else this.state = "data";
      } else if (this.state === "data") {
        if (this.buf.length === 0) return;
        const take = this.buf.subarray(0, Math.min(this.remaining, this.buf.length));
        this.buf = this.buf.subarray(take.length);
        this.remaining -= take.length;
        if (this.signing) this.hash.update(take);
        this.decodedBytes += take.length;
        this.push(Buffer.from(take));
        if (this.remaining === 0) this.state = "data-end";
      } else if (this.state === "data-end") {
        if (this.buf.length < 2) return;
        if (this.buf[0] !== 13 || this.buf[1] !== 10)
          throw new ChunkedDecodeError("format", "Chunk data is longer than its declared size");
        this.buf = this.buf.subarray(2);
        this.verifyChunk();
        this.state = "header";
      } else if (this.state === "trailer") {
        const l = this.line();
        if (l === undefined) return;
        if (l === "") {
          this.finishTrailers();
          continue;
        }
        const i = l.indexOf(":");
        if (i < 0) throw new ChunkedDecodeError("format", "Malformed trailer");
        const name = l.slice(0, i).trim().toLowerCase();
        const value = l.slice(i + 1).trim();
        if (name === "x-amz-trailer-signature") this.trailerSig = value;
        else this.trailers.set(name, value);
      } else {
        if (this.buf.length > 0) throw new ChunkedDecodeError("format", "Data after the final chunk");
        return;
      }
    }
  }

  /** The end of the trailers: a signed-trailer upload's signature must be there and match. */
  private finishTrailers(): void {
    if (this.signing?.signedTrailer) {
      if (this.trailerSig === undefined) throw new ChunkedDecodeError("signature", "The trailer signature is missing");
      if (!safeEqual(trailerSignature(this.signing, this.prevSig, this.trailers), this.trailerSig))
        throw new ChunkedDecodeError("signature", "The trailer signature does not match");
    }
    this.state = "done";
  }

  override _flush(cb: TransformCallback): void {
    try {
      // Some clients end right after the final chunk's trailers without the closing blank line.
      if (this.state === "trailer" && this.buf.length === 0) this.finishTrailers();
      if (this.state !== "done") cb(new ChunkedDecodeError("format", "The aws-chunked body ended early"));
      else cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

/**
 * The encoder: a byte stream as signed aws-chunked, `chunkSize` bytes a chunk, so a
 * body is signed as it is sent and read once (euca's own streaming role-to-role calls).
 */
export class AwsChunkedEncoder extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private prevSig: string;

  constructor(
    private readonly signing: ChunkSigning,
    private readonly chunkSize = 64 * 1024,
  ) {
    super();
    this.prevSig = signing.seedSignature;
  }

  private pushChunk(data: Buffer): void {
    const sig = chunkSignature(this.signing, this.prevSig, createHash("sha256").update(data).digest("hex"));
    this.prevSig = sig;
    this.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`));
    if (data.length) this.push(data);
    this.push(Buffer.from("\r\n"));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= this.chunkSize) {
      const all = Buffer.concat(this.pending);
      this.pushChunk(all.subarray(0, this.chunkSize));
      const rest = all.subarray(this.chunkSize);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.pendingBytes) this.pushChunk(Buffer.concat(this.pending));
    this.pushChunk(Buffer.alloc(0));
    cb();
  }
}
