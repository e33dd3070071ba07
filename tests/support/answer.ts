/**
 * The body type tests read API answers with: every field some JSON answer of the API carries
 * (its type from the OpenAPI document, scripts/client/schema.d.ts), so `res.body.task.id` and
 * `res.body.error.code` read naturally without narrowing. Which fields a given answer has is
 * what the tests assert; pass `request<T>` a narrower type where one answer's shape matters.
 */
import type { ApiError, paths } from "../../scripts/client/index";

type JsonBody<Op> = Op extends { responses: infer R }
  ? { [C in keyof R]: R[C] extends { content: { "application/json": infer B } } ? B : never }[keyof R]
  : never;
/** The union of every JSON body of every operation (success and error). */
type AnyBody = { [P in keyof paths]: { [M in keyof paths[P]]: JsonBody<paths[P][M]> }[keyof paths[P]] }[keyof paths];
type ObjectBody = Exclude<AnyBody, readonly unknown[]>;
type KeysOf<U> = U extends object ? keyof U : never;
type ValueAt<U, K extends PropertyKey> = U extends { [k in K]?: infer V } ? V : never;

type Merged = { [K in KeysOf<ObjectBody>]: ValueAt<ObjectBody, K> };

/**
 * Every top-level field of every JSON answer, each with the union of the types it has across
 * answers; `error` is the one error shape (`{ error: { code, message, issues } }`).
 */
export type ApiAnswer = Omit<Merged, "error"> & ApiError;
