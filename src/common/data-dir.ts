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
