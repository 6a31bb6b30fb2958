/** The metrics file's text, parsed by a real exposition-format parser. */
import { describe, expect, test } from "bun:test";
// @ts-expect-error: the parser ships no types
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { newMetrics, recordPass, renderMetrics } from "../../src/metrics.ts";
import type { Decision } from "../../src/tick/context.ts";

const d = (step: Decision["step"], action: string, data?: Record<string, unknown>): Decision => ({ step, action, message: action, ...(data ? { data } : {}) });

type Family = { name: string; type: string; help: string; metrics: Array<{ value?: string; labels?: Record<string, string>; count?: string; sum?: string }> };
const parse = (text: string): Record<string, Family> => Object.fromEntries((parsePrometheusTextFormat(text) as Family[]).map((f) => [f.name, f]));

describe("metrics", () => {
  test("heartbeats, pass durations, pokes by agent and result, requests by action and outcome", () => {
    const m = newMetrics(1_700_000_000_000);
    recordPass(m, {
      kind: "heartbeat",
      durationMs: 120,
      decisions: [
        d("pokeAgents", "poked", { agent: "deacon" }),
        d("pokeAgents", "fresh", { agent: 'odd"rig\\-witness' }),
        d("processLifecycle", "processing", { id: "m1", identity: "mayor", action: "cycle" }),
        d("processLifecycle", "closed", { id: "m1" }),
        d("processLifecycle", "processing", { id: "m2", identity: "x-witness", action: "restart" }),
        d("processLifecycle", "error", { id: "m2", attempts: 1 }),
        d("processLifecycle", "rejected", { id: "m3" }),
        d("processLifecycle", "closed", { id: "m3" }),
      ],
    }, 1_700_000_060_000);
    recordPass(m, { kind: "lifecycle", durationMs: 30, decisions: [d("pokeAgents", "poked", { agent: "deacon" })] }, 1_700_000_061_000);
    const f = parse(renderMetrics(m, { deaconUp: true }));
    expect(f.gtd_heartbeats_total!.metrics[0]!.value).toBe("1");
    expect(f.gtd_pass_duration_seconds!.type).toBe("SUMMARY");
    expect(f.gtd_pass_duration_seconds!.metrics[0]).toMatchObject({ count: "2", sum: "0.15" });
    expect(f.gtd_last_heartbeat_seconds!.metrics[0]!.value).toBe("1700000060");
    expect(f.gtd_pokes_total!.metrics).toEqual([
      { value: "2", labels: { agent: "deacon", result: "poked" } },
      { value: "1", labels: { agent: 'odd"rig\\-witness', result: "fresh" } },
    ]);
    expect(f.gtd_lifecycle_requests_total!.metrics).toEqual([
      { value: "1", labels: { action: "cycle", outcome: "done" } },
      { value: "1", labels: { action: "restart", outcome: "failed" } },
      { value: "1", labels: { action: "unknown", outcome: "rejected" } },
    ]);
    expect(f.gtd_agent_up!.metrics).toEqual([{ value: "1", labels: { agent: "deacon" } }]);
  });

  test("a fresh daemon's file parses, with empty counters and no agent_up when sessions were not seen", () => {
    const text = renderMetrics(newMetrics(0), { deaconUp: null });
    const f = parse(text);
    expect(f.gtd_heartbeats_total!.metrics[0]!.value).toBe("0");
    expect(f.gtd_agent_up).toBeUndefined();
    expect(text.endsWith("\n")).toBe(true);
  });
});
