// Prepares thousands of better-sqlite3 statements in worker threads that end without
// closing their databases, then in the main thread, and lets the GC collect them: the
// pattern that aborted Node 24 when the addon was built against 24.19+ headers. Prints "ok".
import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const addon = require.resolve("better-sqlite3");
const work = `
const Database = require(${JSON.stringify(addon)});
const db = new Database(":memory:");
db.exec("create table t (a)");
for (let i = 0; i < 3000; i++) db.prepare("insert into t values (?)").run(i);
`;
const inWorker = () =>
  new Promise((resolve, reject) => {
    const w = new Worker(work, { eval: true });
    w.on("exit", resolve);
    w.on("error", reject);
  });
for (let i = 0; i < 30; i++) await inWorker();
const Database = require(addon);
for (let i = 0; i < 5; i++) {
  const db = new Database(":memory:");
  for (let j = 0; j < 5000; j++) db.prepare(`select ${j}`).get();
}
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 200)); // an idle GC may run here, outside any context
console.log("ok");
