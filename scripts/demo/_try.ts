import { fileDb } from "../../tests/support/db";
import { seedDemo } from "./seed";
await seedDemo(fileDb(), { quiet: true });
