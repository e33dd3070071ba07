import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { recordDecisionsIngested, recordWebhookDelivery, registry } from "~/domain/metrics/metrics.server";
import { routeLabeller } from "~/lib/route-label.server";

async function samples(name: string) {
  const text = await registry.getSingleMetricAsString(name);
  return parsePrometheusTextFormat(`${text}\n`)[0].metrics.map((m) => ({ labels: m.labels, value: Number(m.value) }));
}

describe("metrics module", () => {
  it("counts webhook deliveries by outcome (every outcome present from the start)", async () => {
    const before = await samples("lastmile_webhook_deliveries_total");
    expect(before.map((s) => s.labels?.outcome).sort()).toEqual(["dead", "delivered", "failed"]);
    recordWebhookDelivery("delivered");
    recordWebhookDelivery("delivered");
    recordWebhookDelivery("dead");
    const after = new Map((await samples("lastmile_webhook_deliveries_total")).map((s) => [s.labels!.outcome, s.value]));
    const was = new Map(before.map((s) => [s.labels!.outcome, s.value]));
    expect(after.get("delivered")! - was.get("delivered")!).toBe(2);
    expect(after.get("dead")! - was.get("dead")!).toBe(1);
    expect(after.get("failed")! - was.get("failed")!).toBe(0);
  });

  it("counts only newly stored decisions, per type and lane", async () => {
    recordDecisionsIngested(
      ["u-a", "u-a", "u-b", "u-a"],
      [
        { route: "auto", created: true },
        { route: "auto", created: false },
        { route: "review", created: true },
        { route: "auto", created: true },
      ],
    );
    const got = (await samples("lastmile_decisions_ingested_total")).filter((s) => s.labels?.type?.startsWith("u-"));
    expect(got).toEqual(
      expect.arrayContaining([
        { labels: { type: "u-a", route: "auto" }, value: 2 },
        { labels: { type: "u-b", route: "review" }, value: 1 },
      ]),
    );
    expect(got).toHaveLength(2);
  });
});

describe("routeLabeller", () => {
  const label = routeLabeller(
    {
      root: { id: "root", path: "" },
      "routes/_index": { id: "routes/_index", parentId: "root", index: true },
      "routes/decisions.$id": { id: "routes/decisions.$id", parentId: "root", path: "decisions/:id" },
      "routes/decisions._index": { id: "routes/decisions._index", parentId: "root", path: "decisions", index: true },
      "routes/api.$": { id: "routes/api.$", parentId: "root", path: "api/*" },
      "routes/api.v1.tasks.$id.review": { id: "routes/api.v1.tasks.$id.review", parentId: "root", path: "api/v1/tasks/:id/review" },
    },
    "/build/",
  );

  it("names a path by its route id, never by the ids in it", () => {
    expect(label("/")).toBe("routes/_index");
    expect(label("/decisions/dec_123")).toBe("routes/decisions.$id");
    expect(label("/decisions")).toBe("routes/decisions._index");
    expect(label("/api/v1/tasks/tsk_9/review")).toBe("routes/api.v1.tasks.$id.review");
    expect(label("/api/v1/nothing/here")).toBe("routes/api.$");
  });

  it("names data requests by their page, built assets static, the rest unmatched", () => {
    expect(label("/decisions/dec_123.data")).toBe("routes/decisions.$id");
    expect(label("/_root.data")).toBe("routes/_index");
    expect(label("/build/_assets/x-ABC.js")).toBe("static");
    expect(label("/no/such/page")).toBe("unmatched");
    expect(label("/%E0%A4%A")).toBe("unmatched");
  });
});
