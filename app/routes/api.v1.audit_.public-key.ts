import type { LoaderFunctionArgs } from "@remix-run/node";
import { publicKeyPem, signingKey } from "~/domain/audit/signing.server";
import { AppError } from "~/lib/errors";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/**
 * GET /api/v1/audit/public-key[?format=pem]: the Ed25519 key that checks audit
 * checkpoints and evidence packs. Public on purpose (no sign-in): whoever holds a
 * pack must be able to check it, and the key reveals nothing.
 */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(() => {
    const format = new URL(request.url).searchParams.get("format") ?? "json";
    if (format !== "json" && format !== "pem") throw new AppError("invalid", "Invalid query", [{ path: "format", message: "must be json or pem" }]);
    const key = signingKey();
    if (!key) throw new AppError("not_found", "No audit signing key is configured");
    const pem = publicKeyPem(key.publicKey);
    if (format === "pem") return new Response(pem, { headers: { "Content-Type": "application/x-pem-file", "Content-Disposition": 'attachment; filename="lastmile-audit-public-key.pem"' } });
    return json({ algorithm: "Ed25519", keyId: key.keyId, publicKey: pem });
  });

export const action = () => methodNotAllowed(["GET"]);
