/**
 * The nftables objects euca owns, and how its ids become nft identifiers. euca adds,
 * replaces and deletes only these tables; every other table on the host (the site's
 * firewall, Docker's, libvirt's) is never listed, flushed or edited.
 */
export interface NftTable {
  family: "inet" | "ip" | "bridge";
  name: string;
  /** The table's contents: sets, maps and chains, in nft's own syntax. */
  body: string;
}

/** The node controller's: ingress filtering of the guests on this host. */
export const NODE_TABLE = "euca_node";
/** The cluster controller's: the gateway (metadata redirect, elastic addresses, masquerade). */
export const GATEWAY_TABLE = "euca_gateway";

/** "sg-1a2b3c4d" → "sg_1a2b3c4d": nft identifiers are letters, digits and underscores here. */
export const ident = (id: string): string => id.replace(/[^A-Za-z0-9_]/g, "_");

/**
 * One transaction that makes the table exactly `body`: create it if missing, delete it,
 * define it anew. `nft -f` applies the whole script or nothing, so a packet never sees a
 * half-written table, and the prelude makes it idempotent.
 */
export const replaceScript = (tables: readonly NftTable[]): string =>
  tables
    .map(
      (t) =>
        `table ${t.family} ${t.name} {}\ndelete table ${t.family} ${t.name}\ntable ${t.family} ${t.name} {\n${t.body}}\n`,
    )
    .join("");

/** Removes the tables (each created first, so removing one that is absent is no error). */
export const deleteScript = (tables: ReadonlyArray<Pick<NftTable, "family" | "name">>): string =>
  tables.map((t) => `table ${t.family} ${t.name} {}\ndelete table ${t.family} ${t.name}\n`).join("");
