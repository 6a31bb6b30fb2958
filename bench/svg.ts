/**
 * bench/cpu-per-heartbeat.svg: CPU per heartbeat (median, with a p95 whisker) against the number of
 * agents, one line per daemon for daemon plus children and a dashed one for the daemon's own share.
 * Written by hand: a few dozen elements need no charting library.
 */
import type { ScalingPoint } from "./heartbeat.ts";

const W = 780;
const H = 420;
const M = { left: 64, right: 240, top: 48, bottom: 56 };
const COLORS: Record<string, string> = { gtd: "#c0392b", original: "#2471a3" };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** 1, 2 or 5 × a power of ten, so that about five ticks cover `max`. */
function tickStep(max: number): number {
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
}

export function cpuChart(points: ScalingPoint[], title: string, subtitle: string): string {
  const subjects = [...new Set(points.flatMap((p) => Object.keys(p.cpu)))];
  const maxX = Math.max(1, ...points.map((p) => p.agents));
  const maxY = Math.max(1, ...points.flatMap((p) => Object.values(p.cpu).map((c) => c.totalMs.p95))) * 1.1;
  const step = tickStep(maxY);
  const top = Math.ceil(maxY / step) * step;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (a: number) => M.left + (a / maxX) * pw;
  const y = (ms: number) => M.top + ph - (ms / top) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${M.left}" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${M.left}" y="36" fill="#555">${esc(subtitle)}</text>`);
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end">${+v.toFixed(3)}</text>`);
  }
  for (const p of points) {
    out.push(`<line x1="${x(p.agents)}" x2="${x(p.agents)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x(p.agents)}" y="${M.top + ph + 18}" text-anchor="middle">${p.agents}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">agents in supervise.agents (the original watches only the Deacon)</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">CPU ms per heartbeat</text>`);

  let legendY = M.top + 8;
  for (const s of subjects) {
    const color = COLORS[s] ?? "#333";
    const pts = points.filter((p) => p.cpu[s]);
    for (const [key, dash, label] of [["totalMs", "", "daemon + children"], ["ownMs", "6 4", "daemon's own"]] as const) {
      const path = pts.map((p) => `${x(p.agents)},${y(p.cpu[s]![key].median)}`).join(" ");
      out.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
      for (const p of pts) {
        const f = p.cpu[s]![key];
        out.push(`<line x1="${x(p.agents)}" x2="${x(p.agents)}" y1="${y(f.median)}" y2="${y(f.p95)}" stroke="${color}" stroke-opacity="0.5"/>`);
        out.push(`<circle cx="${x(p.agents)}" cy="${y(f.median)}" r="3.5" fill="${dash ? "white" : color}" stroke="${color}" stroke-width="1.5"><title>${esc(`${s} ${label}, ${p.agents} agents: median ${f.median} ms, p95 ${f.p95} ms, n ${f.n}`)}</title></circle>`);
      }
      const lx = M.left + pw + 16;
      out.push(`<line x1="${lx}" x2="${lx + 26}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
      out.push(`<text x="${lx + 32}" y="${legendY + 4}">${esc(`${s}: ${label}`)}</text>`);
      legendY += 20;
    }
  }
  out.push(`<text x="${M.left + pw + 16}" y="${legendY + 10}" fill="#555">dots: median; whisker: p95</text>`);
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
