/** Entry point of the bundle (dist/euca.mjs). */
import { main } from "./cli/program";

const code = await main(process.argv.slice(2), {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
process.exitCode = code;
