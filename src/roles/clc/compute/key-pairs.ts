/** Key pairs: create (RSA 2048 or ED25519), import (ssh-rsa, ssh-ed25519), describe, delete — per account. */
import { and, eq, inArray } from "drizzle-orm";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { DuplicateError, InvalidParameterError, NotFoundError } from "../../../common/errors";
import type { ClcDatabase } from "../database";
import { keyPairs } from "../schema";
import {
  generateKeyPair,
  importedFingerprint,
  openSshPublicKey,
  parsePublicKey,
  type KeyType,
} from "../identity/ssh-keys";
import { idIn, idIs, sameId } from "./id-match";

export interface KeyPairRecord {
  id: string;
  accountId: string;
  name: string;
  fingerprint: string;
  keyType: KeyType;
  publicKey: string;
  createdAt: Date;
}

/** Who asks; `all` only for an admin who asked for every account (`verbose`). */
export interface Scope {
  accountId: string;
  all?: boolean;
}

const KEY_NAME = /^[\x20-\x7e]{1,255}$/;

export function createKeyPairService({ db }: ClcDatabase, clock: Clock, ids: IdGenerator) {
  function checkName(name: string) {
    if (!KEY_NAME.test(name))
      throw new InvalidParameterError("KeyName", `Key name '${name}' is invalid: 1-255 printable ASCII characters`);
  }
  function insert(r: KeyPairRecord): KeyPairRecord {
    try {
      db.insert(keyPairs).values(r).run();
    } catch (e) {
      if (/UNIQUE/.test((e as Error).message)) throw new DuplicateError("key pair", r.name);
      throw e;
    }
    return r;
  }
  return {
    create(scope: Scope, name: string, type: KeyType): KeyPairRecord & { material: string } {
      checkName(name);
      if (
        db
          .select({ id: keyPairs.id })
          .from(keyPairs)
          .where(and(eq(keyPairs.accountId, scope.accountId), eq(keyPairs.name, name)))
          .get()
      ) {
        throw new DuplicateError("key pair", name);
      }
      const made = generateKeyPair(type, name);
      const r = insert({
        id: ids.resourceId("keyPair"),
        accountId: scope.accountId,
        name,
        fingerprint: made.fingerprint,
        keyType: type,
        publicKey: made.publicKey,
        createdAt: clock.now(),
      });
      return { ...r, material: made.material };
    },

    import(scope: Scope, name: string, material: string): KeyPairRecord {
      checkName(name);
      const { key, type } = parsePublicKey(material);
      // Stored in OpenSSH form (what goes into authorized_keys), whatever form it came in.
      return insert({
        id: ids.resourceId("keyPair"),
        accountId: scope.accountId,
        name,
        fingerprint: importedFingerprint(key, type),
        keyType: type,
        publicKey: openSshPublicKey(key, name),
        createdAt: clock.now(),
      });
    },

    /** The account's key pairs (or every account's); named ones must all exist. */
    describe(scope: Scope, names: readonly string[] = [], idsWanted: readonly string[] = []): KeyPairRecord[] {
      const conds = scope.all ? [] : [eq(keyPairs.accountId, scope.accountId)];
      if (names.length) conds.push(inArray(keyPairs.name, [...names]));
      if (idsWanted.length) conds.push(idIn(keyPairs.id, idsWanted));
      const rows = db
        .select()
        .from(keyPairs)
        .where(and(...conds))
        .orderBy(keyPairs.name)
        .all() as KeyPairRecord[];
      for (const n of names) if (!rows.some((r) => r.name === n)) throw new NotFoundError("key pair", n);
      for (const i of idsWanted) if (!rows.some((r) => sameId(r.id, i))) throw new NotFoundError("key pair", i);
      return rows;
    },

    /** An account's key pair by name, if it still exists (instance metadata: it may be deleted since launch). */
    find(accountId: string, name: string): KeyPairRecord | undefined {
      return db
        .select()
        .from(keyPairs)
        .where(and(eq(keyPairs.accountId, accountId), eq(keyPairs.name, name)))
        .get() as KeyPairRecord | undefined;
    },

    /** Deleting a missing key pair succeeds, as in EC2. Returns the deleted key pair's id. */
    delete(scope: Scope, by: { name?: string; id?: string }): string | undefined {
      const where = by.id !== undefined ? idIs(keyPairs.id, by.id) : eq(keyPairs.name, by.name ?? "");
      return db
        .delete(keyPairs)
        .where(and(eq(keyPairs.accountId, scope.accountId), where))
        .returning({ id: keyPairs.id })
        .get()?.id;
    },
  };
}

export type KeyPairService = ReturnType<typeof createKeyPairService>;
