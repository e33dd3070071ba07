/** The admin's view of all decision types: definition summary plus live queue counts. */
import type { DbOrTx } from "@db/client.server";
import { queueCounts } from "../queue/queue.server";
import { listDecisionTypes } from "./decision-types.server";

export type TypeOverview = {
  key: string;
  name: string;
  owner: string;
  policyVersion: number;
  slaMinutes: number;
  reasonCodes: number;
  /** Open (unclaimed) tasks by kind, and tasks currently claimed. */
  open: { review: number; qa: number; second: number; escalation: number };
  claimed: number;
  updatedAt: number;
};

export async function listTypeOverview(db: DbOrTx): Promise<TypeOverview[]> {
  const counts = await queueCounts(db);
  return (await listDecisionTypes(db)).map((t) => {
    const open = { review: 0, qa: 0, second: 0, escalation: 0 };
    let claimed = 0;
    for (const c of counts) {
      if (c.typeKey !== t.key) continue;
      open[c.kind] += c.open;
      claimed += c.claimed;
    }
    return {
      key: t.key,
      name: t.name,
      owner: t.owner,
      policyVersion: t.policyVersion,
      slaMinutes: t.slaMinutes,
      reasonCodes: t.reasonCodes.length,
      open,
      claimed,
      updatedAt: t.updatedAt,
    };
  });
}
