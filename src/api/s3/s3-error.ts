/** An S3 wire error raised by the protocol layer (auth, parsing); codes and statuses: ./errors.ts. */
export class S3Error extends Error {
  constructor(readonly code: string, message: string, readonly extra: Record<string, string> = {}) {
    super(message);
  }
}
