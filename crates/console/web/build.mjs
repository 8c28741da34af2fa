// Copies the front-end dependencies the console embeds into ../assets.
// `--check` builds nothing: it fails when ../assets differs from what a
// build would write (CI runs it, so the checked-in assets never drift from
// package-lock.json).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const assets = join(here, "..", "assets");
const vendored = [["node_modules/htmx.org/dist/htmx.min.js", "htmx.min.js"]];
const check = process.argv.includes("--check");
let stale = 0;
for (const [from, to] of vendored) {
  const built = readFileSync(join(here, from));
  const target = join(assets, to);
  if (check) {
    let current = null;
    try { current = readFileSync(target); } catch { /* missing counts as stale */ }
    if (current === null || !current.equals(built)) {
      console.error(`assets/${to} differs from ${from}: run \`npm run build\` in crates/console/web`);
      stale += 1;
    }
  } else {
    writeFileSync(target, built);
    console.log(`assets/${to} <- ${from} (${built.length} bytes)`);
  }
}
process.exit(stale === 0 ? 0 : 1);
