import type { ClusterClient } from "../../cc/client";
import type { StorageClient } from "../../sc/client";

/** A zone as the CLC's volume services reach it: its cluster, and its storage controller when it has one. */
export interface Zone {
  name: string;
  storage?: StorageClient;
  cluster: ClusterClient;
}
