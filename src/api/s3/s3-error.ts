/** An S3 wire error raised by the protocol layer (auth, parsing); codes and statuses: ./errors.ts. */
import type { S3Code } from "./codes";

export class S3Error extends Error {
  constructor(
    readonly code: S3Code,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}
