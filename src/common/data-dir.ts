import { join } from "node:path";
import { homedir } from "node:os";

/** Default data directory: /var/lib/euca as root, else ~/.local/share/euca. */
export function defaultDataDir(uid = process.getuid?.() ?? 1000, home = homedir()): string {
  return uid === 0 ? "/var/lib/euca" : join(home, ".local", "share", "euca");
}

/** Where each thing lives under the data directory. */
export function dataDirLayout(root: string) {
  return {
    root,
    database: (role: "clc" | "cc" | "nc" | "walrus" | "sc") => join(root, `${role}.db`),
    keysDir: join(root, "keys"),
    cloudCert: join(root, "keys", "cloud-cert.pem"),
    cloudKey: join(root, "keys", "cloud-pk.pem"),
    credentialsRoot: join(root, "credentials"),
    credentialsDir: (user: string) => join(root, "credentials", user),
    componentKeys: join(root, "keys", "component-keys.json"),
    /** This host's own key (made here, 0600) and the certificate the cloud CA issued it at `euca join`. */
    hostKey: join(root, "keys", "host-key.pem"),
    hostCert: join(root, "keys", "host-cert.pem"),
    /** The cloud CA's revocation list, as last fetched from the CLC (or made by it, on the head). */
    revocations: join(root, "keys", "revoked.crl"),
    instancesDir: join(root, "instances"),
    walrusDir: join(root, "walrus"),
    /** The web interface's certificate, its cookie-signing secret and the initial admin password. */
    webDir: join(root, "web"),
    volumesDir: join(root, "volumes"),
    /** The endpoints the running (or last) `euca run` served. */
    servedEndpoints: join(root, "endpoints.json"),
  };
}

export type DataDirLayout = ReturnType<typeof dataDirLayout>;
