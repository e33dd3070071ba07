/**
 * Prints the demo credit model's quality: a seeded 75/25 hold-out split and the
 * 5-fold out-of-fold scores the demo actually posts. Run:
 *   npx tsx scripts/demo/credit-model-report.ts
 */
import { crossFit, holdoutReport, loadCreditApplications, MODEL_V1, MODEL_V2, outOfFoldReport, featureNames, fitEncoder } from "./credit-model";
import { DEMO_SEED } from "./seed";

const rows = loadCreditApplications();
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
console.log(`${rows.length} applications, ${rows.filter((r) => r.status === "good").length} good`);
for (const [spec, version] of [
  [MODEL_V1, "1.0.0"],
  [MODEL_V2, "2.0.0"],
] as const) {
  const h = holdoutReport(rows, spec, version);
  const o = outOfFoldReport(rows, crossFit(rows, spec, version, 5, DEMO_SEED).scores, version);
  const features = featureNames(fitEncoder(rows, spec)).length;
  console.log(
    `${version} (${String(features).padStart(2)} features) hold-out n=${h.n}: AUC ${h.auc.toFixed(3)}, accuracy ${pct(h.accuracy)} vs majority ${pct(h.baselineAccuracy)}, log-loss ${h.logLoss.toFixed(3)}`,
  );
  console.log(
    `${" ".repeat(version.length + 15)}out-of-fold n=${o.n}: AUC ${o.auc.toFixed(3)}, accuracy ${pct(o.accuracy)} vs majority ${pct(o.baselineAccuracy)}, log-loss ${o.logLoss.toFixed(3)}`,
  );
}
