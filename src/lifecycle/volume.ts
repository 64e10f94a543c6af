/**
 * A volume's lifecycle, as EC2 and Eucalyptus 4.4 have it: the volume (creating →
 * available ⇄ in-use → deleting → deleted, or error) and its attachment (attaching →
 * attached → detaching → detached). The SC records what it holds; the node's report is
 * the truth of an attachment; the CLC shows EC2 users both.
 */
export type VolumeState = "creating" | "available" | "in-use" | "deleting" | "deleted" | "error";
export type AttachmentState = "attaching" | "attached" | "detaching" | "detached";
/** What an SC records of a volume it holds. */
export type StoredVolumeState = "creating" | "available" | "deleting" | "error";

export const VOLUME_STATES = [
  "creating",
  "available",
  "in-use",
  "deleting",
  "deleted",
  "error",
] as const satisfies readonly VolumeState[];
export const ATTACHMENT_STATES = [
  "attaching",
  "attached",
  "detaching",
  "detached",
] as const satisfies readonly AttachmentState[];
export const STORED_VOLUME_STATES = [
  "creating",
  "available",
  "deleting",
  "error",
] as const satisfies readonly StoredVolumeState[];

/** The CLC's state of a volume from what its SC says it holds (an attachment makes an available volume in-use). */
export function volumeStateFrom(
  stored: StoredVolumeState | undefined,
  current: VolumeState,
  attached: boolean,
): VolumeState {
  if (current === "deleting" || current === "deleted")
    return stored === undefined ? "deleted" : stored === "error" ? "error" : current;
  if (stored === undefined) return current === "creating" ? current : "error"; // a volume its SC lost
  if (stored === "available") return attached ? "in-use" : "available";
  return stored;
}
