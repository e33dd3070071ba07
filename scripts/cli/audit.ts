/**
 * `lastmile audit checkpoint` signs the head of the chain now;
 * `lastmile audit verify` checks the whole chain against the signed checkpoints;
 * `lastmile audit verify --pack FILE [--public-key PEM]` checks an evidence pack on its own.
 * Verify exits 0 when everything holds, 1 naming the first bad entry.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { databasePath, getDb } from "@db/client.server";
import { verifyAuditChain } from "~/domain/audit/audit.server";
import { writeCheckpoint } from "~/domain/audit/checkpoints.server";
import { verifyEvidencePack } from "~/domain/audit/evidence.server";
import { parsePublicKey, signingKey } from "~/domain/audit/signing.server";

export async function runAudit(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "checkpoint") {
    const { checkpoint, written } = await writeCheckpoint(getDb());
    if (!checkpoint) console.log("The audit trail is empty: nothing to sign.");
    else
      console.log(
        `${written ? "Signed" : "Already signed:"} checkpoint #${checkpoint.seq} ${checkpoint.headHash} at ${new Date(checkpoint.at).toISOString()} (key ${checkpoint.keyId})`,
      );
    return 0;
  }
  if (sub === "verify") {
    const { values } = parseArgs({ args: rest, options: { pack: { type: "string" }, "public-key": { type: "string" } }, strict: true });
    if (values.pack) return verifyPack(values.pack, values["public-key"]);
    const result = await verifyAuditChain(getDb(), values["public-key"] ? { publicKey: parsePublicKey(fs.readFileSync(values["public-key"], "utf8")) } : {});
    if (!result.ok) {
      console.error(`Audit trail of ${databasePath()} is broken at entry #${result.brokenAt}: ${result.reason}`);
      console.error(`${result.entries} entries before it verified.`);
      return 1;
    }
    const anchored =
      result.anchoredThrough === null
        ? "no signed checkpoint yet"
        : `anchored through #${result.anchoredThrough} by ${result.checkpoints} signed checkpoint(s), the last at ${new Date(result.anchoredAt!).toISOString()}`;
    console.log(`Audit trail intact: ${result.entries} entries, ${anchored}.`);
    return 0;
  }
  console.error("usage: lastmile audit checkpoint | lastmile audit verify [--pack FILE] [--public-key FILE.pem]");
  return 2;
}

function verifyPack(file: string, publicKeyFile: string | undefined): number {
  let pack: unknown;
  try {
    pack = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    console.error(`Cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  // The key a pack is checked with comes from outside the pack: a file the auditor
  // fetched from /api/v1/audit/public-key, or this installation's own key.
  const publicKey = publicKeyFile ? parsePublicKey(fs.readFileSync(publicKeyFile, "utf8")) : signingKey({ create: false })?.publicKey;
  if (!publicKey) {
    console.error("No public key: pass --public-key FILE.pem (from GET /api/v1/audit/public-key)");
    return 1;
  }
  const result = verifyEvidencePack(pack, publicKey);
  if (!result.ok) {
    console.error(`Evidence pack ${file} does not verify: ${result.reason}`);
    return 1;
  }
  console.log(
    `Evidence pack for decision ${result.decisionId} verifies: ${result.entries} audit entries (${result.sealed} sealed) anchored by ${result.checkpoints} signed checkpoint(s).`,
  );
  return 0;
}
