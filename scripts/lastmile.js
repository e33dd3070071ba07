#!/usr/bin/env node
// The `lastmile` operator CLI. Runs the TypeScript sources through tsx so the
// CLI shares the domain modules (and their validation) with the app.
import { register } from "tsx/esm/api";

register({ tsconfig: new URL("../tsconfig.json", import.meta.url).pathname });
const { main } = await import("./cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
