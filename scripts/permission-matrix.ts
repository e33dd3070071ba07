/**
 * Prints the README's "Permission matrix" section from the table the HTTP test
 * walks (tests/support/permission-matrix.ts); with --write, replaces that
 * section in README.md. A test fails when the README and the table differ.
 */
import fs from "node:fs";
import { matrixMarkdown } from "../tests/support/permission-matrix";

const section = matrixMarkdown();
if (process.argv.includes("--write")) {
  const readme = fs.readFileSync("README.md", "utf8");
  const start = readme.indexOf("## Permission matrix\n");
  if (start < 0) throw new Error("README.md has no '## Permission matrix' section");
  const next = readme.indexOf("\n## ", start + 1);
  const end = next < 0 ? readme.length : next + 1;
  fs.writeFileSync("README.md", readme.slice(0, start) + section + (next < 0 ? "" : "\n") + readme.slice(end));
} else {
  process.stdout.write(section);
}
