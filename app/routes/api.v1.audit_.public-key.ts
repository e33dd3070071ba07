import type { LoaderFunctionArgs } from "@remix-run/node";
import { publicKeyPem, publicKeyQuerySchema, signingKey } from "~/domain/audit/signing.server";
import { AppError } from "~/lib/errors";
import { api, json, methodNotAllowed } from "~/lib/http.server";
import { requireQuery } from "~/lib/query";

/**
 * GET /api/v1/audit/public-key[?format=pem]: the Ed25519 key that checks audit
 * checkpoints and evidence packs. Public on purpose (no sign-in): whoever holds a
 * pack must be able to check it, and the key reveals nothing.
 */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(() => {
    const { format } = requireQuery(publicKeyQuerySchema, new URL(request.url).searchParams);
    const key = signingKey();
    if (!key) throw new AppError("not_found", "No audit signing key is configured");
    const pem = publicKeyPem(key.publicKey);
    if (format === "pem")
      return new Response(pem, {
        headers: { "Content-Type": "application/x-pem-file", "Content-Disposition": 'attachment; filename="lastmile-audit-public-key.pem"' },
      });
    return json({ algorithm: "Ed25519", keyId: key.keyId, publicKey: pem });
  });

export const action = () => methodNotAllowed(["GET"]);
