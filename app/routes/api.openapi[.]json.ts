import { apiDocument } from "~/domain/api/openapi.server";
import { json, methodNotAllowed } from "~/lib/http.server";

/**
 * GET /api/openapi.json: the API contract (OpenAPI 3.1), built from the zod
 * schemas the routes validate with. Public on purpose, like the code it is
 * generated from: it holds no data, and integrators' tools (codegen, API
 * explorers, contract tests) fetch it before they have a key. Every operation
 * it describes still asks for one.
 */
export const loader = () => json(apiDocument(), 200, { "Cache-Control": "public, max-age=300" });

export const action = () => methodNotAllowed(["GET"]);
