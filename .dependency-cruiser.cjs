/**
 * The import boundaries of euca (docs/architecture.md): layers point one way —
 * cli → compose → api → roles → boundaries — and nothing imports in a circle.
 * Checked by `npm run check:deps`, which `npm test` and CI run.
 */
const BOUNDARIES = "^src/(config|common|auth|rpc|db|server|hypervisor|net|bundle|lifecycle)/";
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "Imports never run in a circle.",
      from: {},
      to: { circular: true },
    },
    {
      name: "boundaries-stay-down",
      severity: "error",
      comment:
        "config, common, auth, rpc, db, server, hypervisor, net, bundle and lifecycle never import roles, protocols, the composition or the CLI.",
      from: { path: BOUNDARIES },
      to: { path: "^src/(roles|api|compose|cli)/|^src/cloud\\.ts$" },
    },
    {
      name: "roles-below-protocols",
      severity: "error",
      comment: "A role never imports a wire protocol, the composition or the CLI.",
      from: { path: "^src/roles/" },
      to: { path: "^src/(api|compose|cli)/|^src/cloud\\.ts$" },
    },
    {
      name: "protocols-use-services",
      severity: "error",
      comment:
        "A protocol handler calls role services; it never touches SQL (drizzle, better-sqlite3) or a role's schema, repository or database.",
      from: { path: "^src/api/" },
      to: {
        path: ["drizzle-orm", "better-sqlite3", "^src/roles/[^/]+/(schema|repo|database|migrations)\\.ts$", "^src/db/"],
      },
    },
    {
      name: "protocols-not-composition",
      severity: "error",
      comment: "Protocols do not reach up to the composition or the CLI.",
      from: { path: "^src/api/" },
      to: { path: "^src/(compose|cli)/|^src/cloud\\.ts$" },
    },
    {
      name: "browser-scripts-apart",
      severity: "error",
      comment:
        "The browser's scripts (src/web-client) are bundled for the browser on their own: they import no server code, and no server code imports them.",
      from: { path: "^src/web-client/" },
      to: { path: "^src/(?!web-client/)" },
    },
    {
      name: "server-not-browser-scripts",
      severity: "error",
      comment: "Server code does not import the browser's scripts.",
      from: { path: "^src/(?!web-client/)" },
      to: { path: "^src/web-client/" },
    },
    {
      name: "composition-not-cli",
      severity: "error",
      comment: "The composition root is below the CLI.",
      from: { path: "^src/(compose/|cloud\\.ts$)" },
      to: { path: "^src/cli/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    exclude: { path: "^(test|bench|dist)/" },
  },
};
