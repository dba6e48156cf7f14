// The manager's decision view of a closed wave: summary first (overall score, change since
// the previous wave, three focus areas in respondents' words, strengths, response rate),
// then the trend, the key drivers of satisfaction and the comment themes.
import { el } from "./base.js";

const SUPPRESSED = (v) => v !== null && typeof v === "object" && v.suppressed === true;
const signed = (x) => (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x).toFixed(2);
const pct = (x) => `${Math.round(x * 100)}%`;

function interval(low, high) {
  return low === null || low === undefined || high === null || high === undefined
    ? "no interval" : `95% CI ${signed(low)} to ${signed(high)}`;
}

function overall(label, score) {
  if (!score) return null;
  if (SUPPRESSED(score)) return el("li", { class: "suppressed" }, `${label}: suppressed (${score.reason})`);
  return el("li", {}, el("strong", {}, `${label} ${signed(score.mean)}`),
    ` (${interval(score.ci_low, score.ci_high)}, ${score.n} respondents)`);
}

const VERDICT = { improved: "Improved", worsened: "Worse", "no clear change": "No clear change", "no interval": "Not comparable" };

function change(c) {
  if (c === null || c === undefined) return el("p", { id: "summary-change", class: "muted" }, "This is the first closed wave of this service with this questionnaire: nothing to compare with yet.");
  if (SUPPRESSED(c)) return el("p", { id: "summary-change", class: "suppressed" }, `Change since the previous wave: suppressed (${c.reason}).`);
  return el("p", { id: "summary-change" }, el("span", { class: `verdict verdict-${c.verdict.replaceAll(" ", "-")}` }, VERDICT[c.verdict] || c.verdict), " ", c.sentence);
}

/** The summary section: what a manager reads first. */
export function summarySection(summary) {
  if (!summary) return [];
  if (SUPPRESSED(summary)) return [el("h3", {}, "Summary"), el("p", { class: "suppressed" }, `The summary is suppressed (${summary.reason}).`)];
  const parts = [
    el("h3", {}, "Summary"),
    el("ul", { id: "summary-overall" },
      overall("Overall gap", summary.overall_gap), overall("Overall perception", summary.overall_perception),
      el("li", { id: "summary-response-rate" }, `Responses: ${summary.response_rate.text}.`)),
    change(summary.change),
    el("h4", {}, "Focus areas"),
  ];
  parts.push(summary.focus.length
    ? el("ol", { id: "summary-focus" }, summary.focus.map((f) => el("li", {},
      el("strong", {}, f.wording), el("span", { class: "muted" }, ` — ${f.dimension_title}`), el("br"), f.evidence)))
    : el("p", { id: "summary-focus" }, "No gap stays significant after adjustment: there is no focus area."));
  if (summary.strengths.length) {
    parts.push(el("h4", {}, "Strengths"), el("ul", { id: "summary-strengths" },
      summary.strengths.map((s) => el("li", {}, el("strong", {}, s.wording), el("br"), s.evidence))));
  }
  return parts;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Overall score per closed wave with its interval: a line chart and the same numbers as a table. */
export function trendSection(trend) {
  if (!trend || !Array.isArray(trend.points) || trend.points.length === 0) return [];
  const points = trend.points.filter((p) => p.overall);
  const parts = [el("h3", {}, "Trend")];
  if (points.length >= 2) {
    const values = points.flatMap((p) => [p.overall.mean, p.overall.ci_low ?? p.overall.mean, p.overall.ci_high ?? p.overall.mean]);
    const lo = Math.min(...values, 0) - 0.2;
    const hi = Math.max(...values, 0) + 0.2;
    const W = 560, H = 200, L = 50, R = 20, T = 15, B = 35;
    const x = (i) => L + (i * (W - L - R)) / Math.max(points.length - 1, 1);
    const y = (v) => T + ((hi - v) * (H - T - B)) / (hi - lo);
    const desc = points.map((p) => `${p.title} (closed ${p.closes_on}): ${signed(p.overall.mean)}, ${interval(p.overall.ci_low, p.overall.ci_high)}`).join("; ");
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-labelledby": "trend-title trend-desc" });
    chart.append(svg("title", { id: "trend-title" }, `Overall ${trend.score} score per wave`), svg("desc", { id: "trend-desc" }, desc));
    if (lo < 0 && hi > 0) chart.append(svg("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), stroke: "#888", "stroke-dasharray": "4 3" }));
    chart.append(svg("polyline", { points: points.map((p, i) => `${x(i)},${y(p.overall.mean)}`).join(" "), fill: "none", stroke: "#1f5f8b", "stroke-width": 2 }));
    points.forEach((p, i) => {
      if (p.overall.ci_low !== null && p.overall.ci_high !== null) chart.append(svg("line", { x1: x(i), x2: x(i), y1: y(p.overall.ci_low), y2: y(p.overall.ci_high), stroke: "#1f5f8b" }));
      chart.append(svg("circle", { cx: x(i), cy: y(p.overall.mean), r: 4, fill: "#1f5f8b" }));
      chart.append(svg("text", { x: x(i), y: H - 12, "text-anchor": "middle", "font-size": 11 }, p.closes_on));
    });
    parts.push(el("figure", { class: "chart", id: "trend-chart" }, chart));
  }
  const dims = trend.dimensions || [];
  parts.push(el("div", { class: "table-wrap" }, el("table", { id: "trend-table" },
    el("caption", {}, `Overall and dimension ${trend.score} scores of every closed wave`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Wave"), el("th", { scope: "col" }, "Closed"), el("th", { scope: "col" }, "Overall (95% CI)"), dims.map((d) => el("th", { scope: "col" }, d)))),
    el("tbody", {}, trend.points.map((p) => el("tr", {},
      el("td", {}, p.title), el("td", {}, p.closes_on),
      el("td", { class: "num" }, p.overall ? `${signed(p.overall.mean)} (${interval(p.overall.ci_low, p.overall.ci_high).replace("95% CI ", "")})` : "suppressed"),
      dims.map((d) => el("td", { class: "num" }, p.dimensions[d] ? signed(p.dimensions[d].mean) : "suppressed"))))))));
  return parts;
}

/** Key drivers: what moves overall satisfaction, beside what people said matters. */
export function driversSection(drivers) {
  if (drivers === null || drivers === undefined) return [];
  const parts = [el("h3", {}, "What drives overall satisfaction")];
  if (SUPPRESSED(drivers)) return [...parts, el("p", { class: "suppressed", id: "drivers" }, `Suppressed (${drivers.reason}).`)];
  parts.push(el("p", { class: "muted" }, `“${drivers.outcome_wording}” — ${drivers.method}`));
  if (!drivers.rows.length) return [...parts, el("p", { id: "drivers" }, drivers.note || "No driver analysis.")];
  parts.push(el("p", {}, `The dimensions together explain ${pct(drivers.r_squared)} of the variation in satisfaction (${interval(drivers.r_squared_low, drivers.r_squared_high).replace(/[+−]/g, "")}) across ${drivers.n} respondents.`));
  const rows = [...drivers.rows].sort((a, b) => b.share - a.share);
  parts.push(el("div", { class: "table-wrap" }, el("table", { id: "drivers" },
    el("caption", {}, "Share of the explained variance (derived importance) and stated importance"),
    el("thead", {}, el("tr", {}, ["Dimension", "Derived share", "95% CI", "Dominance", "Stated share", ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {},
      el("td", {}, r.title), el("td", { class: "num" }, pct(r.share)),
      el("td", { class: "num" }, r.share_low === null ? "—" : `${pct(r.share_low)} – ${pct(r.share_high)}`),
      el("td", { class: "num" }, r.dominance === null ? "—" : r.dominance.toFixed(3)),
      el("td", { class: "num" }, r.stated_share === null ? "—" : pct(r.stated_share)),
      el("td", {}, r.disagrees ? el("strong", {}, "derived and stated disagree") : "")))))));
  if (drivers.note) parts.push(el("p", { class: "hint" }, drivers.note));
  return parts;
}

/** Comment themes, never below k_comments. */
export function themesSection(themes) {
  if (!themes) return [];
  const parts = [el("h3", {}, "Comment themes")];
  if (SUPPRESSED(themes)) return [...parts, el("p", { class: "suppressed", id: "themes" }, `Suppressed (${themes.reason}).`)];
  if (!themes.themes.length) return [...parts, el("p", { id: "themes" }, themes.note || "No themes.")];
  parts.push(el("ul", { id: "themes" }, themes.themes.map((t) => el("li", {},
    el("strong", {}, t.label), ` — ${t.comments} of ${themes.comments} comments`, t.dimension ? ` (${t.dimension})` : ""))));
  if (themes.other) parts.push(el("p", { class: "muted" }, `${themes.other} comments in smaller themes.`));
  parts.push(el("p", { class: "hint" }, themes.method));
  return parts;
}
