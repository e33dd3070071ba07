import { defineConfig } from "drizzle-kit";

// `npm run db:generate` runs drizzle-kit once per dialect, from one schema description (db/schema/tables.ts).
const dialect = process.env.DRIZZLE_DIALECT === "postgres" ? "postgresql" : "sqlite";
const dir = dialect === "postgresql" ? "postgres" : "sqlite";

export default defineConfig({
  dialect,
  schema: `./db/schema/${dir}.ts`,
  out: `./db/migrations/${dir}`,
});
