/** S3 tag sets: the limits S3 enforces on object and bucket tags. */
import { StorageError } from "../../common/errors";
import type { Tag } from "./records";

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
const MAX_KEY_CHARS = 128;
const MAX_VALUE_CHARS = 256;
/** Letters, digits, spaces and + - = . _ : / @ (S3's tag alphabet). */
const ALPHABET = /^[\p{L}\p{Z}\p{N}+\-=._:/@]*$/u;

const chars = (s: string) => [...s].length;

/** Checks a tag set for an object (at most 10) or a bucket (at most 50); returns it unchanged. */
export function checkTags(tags: readonly Tag[], of: "object" | "bucket"): Tag[] {
  const max = of === "object" ? MAX_OBJECT_TAGS : MAX_BUCKET_TAGS;
  if (tags.length > max)
    throw new StorageError("BadRequest", `${of === "object" ? "Object" : "Bucket"} tags cannot be greater than ${max}`);
  const seen = new Set<string>();
  for (const t of tags) {
    if (chars(t.key) < 1 || chars(t.key) > MAX_KEY_CHARS || !ALPHABET.test(t.key))
      throw new StorageError("InvalidTag", "The TagKey you have provided is invalid", { TagKey: t.key });
    if (chars(t.value) > MAX_VALUE_CHARS || !ALPHABET.test(t.value))
      throw new StorageError("InvalidTag", "The TagValue you have provided is invalid", { TagKey: t.key });
    if (t.key.toLowerCase().startsWith("aws:"))
      throw new StorageError("InvalidTag", "Your TagKey cannot be prefixed with aws:", { TagKey: t.key });
    if (seen.has(t.key))
      throw new StorageError("InvalidTag", "Cannot provide multiple Tags with the same key", { TagKey: t.key });
    seen.add(t.key);
  }
  return [...tags];
}
