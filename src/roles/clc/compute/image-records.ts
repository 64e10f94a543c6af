/** Images as the CLC records and shows them. */
import type { images } from "../schema";

export type ImageType = "machine" | "kernel" | "ramdisk";
export type ImageRecord = typeof images.$inferSelect;
export interface ImageView extends ImageRecord {
  isPublic: boolean;
  launchPermissions: string[];
}

export interface Caller {
  accountId: string;
  isAdmin: boolean;
}
