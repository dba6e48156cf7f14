// The manager's decision view of a closed wave: summary first (overall score, change since
// the previous wave, three focus areas in respondents' words, strengths, response rate),
// then the trend, the key drivers of satisfaction and the comment themes.
import { el } from "./base.js";
import { formatDate, formatNumber, t } from "./i18n.js";

const SUPPRESSED = (v) => v !== null && typeof v === "object" && v.suppressed === true;
const TWO = { minimumFractionDigits: 2, maximumFractionDigits: 2 };
const signed = (x) => (x > 0 ? "+" : x < 0 ? "−" : "") + formatNumber(Math.abs(x), TWO);
const pct = (x) => formatNumber(x, { style: "percent", maximumFractionDigits: 0 });

function interval(low, high) {
  return low === null || low === undefined || high === null || high === undefined
    ? t("no interval") : t("95% CI {low} to {high}", { low: signed(low), high: signed(high) });
}

/** An interval's two bounds alone, for a table cell whose header already says "95% CI". */
function bounds(low, high) {
  return low === null || low === undefined || high === null || high === undefined
    ? t("no interval") : t("{low} to {high}", { low: signed(low), high: signed(high) });
}

function overall(label, score) {
  if (!score) return null;
  if (SUPPRESSED(score)) return el("li", { class: "suppressed" }, t("{label}: suppressed ({reason})", { label, reason: score.reason }));
  return el("li", {}, el("strong", {}, `${label} ${signed(score.mean)}`),
    t(" ({interval}, {n} respondents)", { interval: interval(score.ci_low, score.ci_high), n: formatNumber(score.n) }));
}

const VERDICT = { improved: t("Improved"), worsened: t("Worse"), "no clear change": t("No clear change"), "no interval": t("Not comparable") };

function change(c) {
  if (c === null || c === undefined) return el("p", { id: "summary-change", class: "muted" }, t("This is the first closed wave of this service with this questionnaire: nothing to compare with yet."));
  if (SUPPRESSED(c)) return el("p", { id: "summary-change", class: "suppressed" }, t("Change since the previous wave: suppressed ({reason}).", { reason: c.reason }));
  return el("p", { id: "summary-change" }, el("span", { class: `verdict verdict-${c.verdict.replaceAll(" ", "-")}` }, VERDICT[c.verdict] || c.verdict), " ", c.sentence);
}

/** The summary section: what a manager reads first. */
export function summarySection(summary) {
  if (!summary) return [];
  if (SUPPRESSED(summary)) return [el("h3", {}, t("Summary")), el("p", { class: "suppressed" }, t("The summary is suppressed ({reason}).", { reason: summary.reason }))];
  const parts = [
    el("h3", {}, t("Summary")),
    el("ul", { id: "summary-overall" },
      overall(t("Overall gap"), summary.overall_gap), overall(t("Overall perception"), summary.overall_perception),
      el("li", { id: "summary-response-rate" }, t("Responses: {rate}.", { rate: summary.response_rate.text }))),
    change(summary.change),
    el("h4", {}, t("Focus areas")),
  ];
  parts.push(summary.focus.length
    ? el("ol", { id: "summary-focus" }, summary.focus.map((f) => el("li", {},
      el("strong", {}, f.wording), el("span", { class: "muted" }, ` — ${f.dimension_title}`), el("br"), f.evidence)))
    : el("p", { id: "summary-focus" }, t("No gap stays significant after adjustment: there is no focus area.")));
  if (summary.strengths.length) {
    parts.push(el("h4", {}, t("Strengths")), el("ul", { id: "summary-strengths" },
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
  const parts = [el("h3", {}, t("Trend"))];
  if (points.length >= 2) {
    const values = points.flatMap((p) => [p.overall.mean, p.overall.ci_low ?? p.overall.mean, p.overall.ci_high ?? p.overall.mean]);
    const lo = Math.min(...values, 0) - 0.2;
    const hi = Math.max(...values, 0) + 0.2;
    const W = 560, H = 200, L = 50, R = 20, T = 15, B = 35;
    const x = (i) => L + (i * (W - L - R)) / Math.max(points.length - 1, 1);
    const y = (v) => T + ((hi - v) * (H - T - B)) / (hi - lo);
    const desc = points.map((p) => t("{title} (closed {day}): {mean}, {interval}", { title: p.title, day: formatDate(p.closes_on), mean: signed(p.overall.mean), interval: interval(p.overall.ci_low, p.overall.ci_high) })).join("; ");
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-labelledby": "trend-title trend-desc" });
    chart.append(svg("title", { id: "trend-title" }, t("Overall {score} score per wave", { score: trend.score })), svg("desc", { id: "trend-desc" }, desc));
    if (lo < 0 && hi > 0) chart.append(svg("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), stroke: "#888", "stroke-dasharray": "4 3" }));
    chart.append(svg("polyline", { points: points.map((p, i) => `${x(i)},${y(p.overall.mean)}`).join(" "), fill: "none", stroke: "#1f5f8b", "stroke-width": 2 }));
    points.forEach((p, i) => {
      if (p.overall.ci_low !== null && p.overall.ci_high !== null) chart.append(svg("line", { x1: x(i), x2: x(i), y1: y(p.overall.ci_low), y2: y(p.overall.ci_high), stroke: "#1f5f8b" }));
      chart.append(svg("circle", { cx: x(i), cy: y(p.overall.mean), r: 4, fill: "#1f5f8b" }));
      chart.append(svg("text", { x: x(i), y: H - 12, "text-anchor": "middle", "font-size": 11 }, formatDate(p.closes_on)));
    });
    parts.push(el("figure", { class: "chart", id: "trend-chart" }, chart));
  }
  const dims = trend.dimensions || [];
  parts.push(el("div", { class: "table-wrap" }, el("table", { id: "trend-table" },
    el("caption", {}, t("Overall and dimension {score} scores of every closed wave", { score: trend.score })),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Wave")), el("th", { scope: "col" }, t("Closed")), el("th", { scope: "col" }, t("Overall (95% CI)")), dims.map((d) => el("th", { scope: "col" }, d)))),
    el("tbody", {}, trend.points.map((p) => el("tr", {},
      el("td", {}, p.title), el("td", {}, formatDate(p.closes_on)),
      el("td", { class: "num" }, p.overall ? `${signed(p.overall.mean)} (${bounds(p.overall.ci_low, p.overall.ci_high)})` : t("suppressed")),
      dims.map((d) => el("td", { class: "num" }, p.dimensions[d] ? signed(p.dimensions[d].mean) : t("suppressed")))))))));
  return parts;
}

/** Key drivers: what moves overall satisfaction, beside what people said matters. */
export function driversSection(drivers) {
  if (drivers === null || drivers === undefined) return [];
  const parts = [el("h3", {}, t("What drives overall satisfaction"))];
  if (SUPPRESSED(drivers)) return [...parts, el("p", { class: "suppressed", id: "drivers" }, t("Suppressed ({reason}).", { reason: drivers.reason }))];
  parts.push(el("p", { class: "muted" }, `“${drivers.outcome_wording}” — ${drivers.method}`));
  if (!drivers.rows.length) return [...parts, el("p", { id: "drivers" }, drivers.note || t("No driver analysis."))];
  parts.push(el("p", {}, t("The dimensions together explain {share} of the variation in satisfaction ({interval}) across {n} respondents.", {
    share: pct(drivers.r_squared), n: formatNumber(drivers.n),
    interval: interval(drivers.r_squared_low, drivers.r_squared_high).replace(/[+−]/g, "") })));
  const rows = [...drivers.rows].sort((a, b) => b.share - a.share);
  parts.push(el("div", { class: "table-wrap" }, el("table", { id: "drivers" },
    el("caption", {}, t("Share of the explained variance (derived importance) and stated importance")),
    el("thead", {}, el("tr", {}, [t("Dimension"), t("Derived share"), t("95% CI"), t("Dominance"), t("Stated share"), ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {},
      el("td", {}, r.title), el("td", { class: "num" }, pct(r.share)),
      el("td", { class: "num" }, r.share_low === null ? "—" : `${pct(r.share_low)} – ${pct(r.share_high)}`),
      el("td", { class: "num" }, r.dominance === null ? "—" : formatNumber(r.dominance, { minimumFractionDigits: 3, maximumFractionDigits: 3 })),
      el("td", { class: "num" }, r.stated_share === null ? "—" : pct(r.stated_share)),
      el("td", {}, r.disagrees ? el("strong", {}, t("derived and stated disagree")) : "")))))));
  if (drivers.note) parts.push(el("p", { class: "hint" }, drivers.note));
  return parts;
}

/** Comment themes, never below k_comments. */
export function themesSection(themes) {
  if (!themes) return [];
  const parts = [el("h3", {}, t("Comment themes"))];
  if (SUPPRESSED(themes)) return [...parts, el("p", { class: "suppressed", id: "themes" }, t("Suppressed ({reason}).", { reason: themes.reason }))];
  if (!themes.themes.length) return [...parts, el("p", { id: "themes" }, themes.note || t("No themes."))];
  parts.push(el("ul", { id: "themes" }, themes.themes.map((theme) => el("li", {},
    el("strong", {}, theme.label), t(" — {count} of {total} comments", { count: formatNumber(theme.comments), total: formatNumber(themes.comments) }),
    theme.dimension ? ` (${theme.dimension})` : ""))));
  if (themes.other) parts.push(el("p", { class: "muted" }, t("{count} comments in smaller themes.", { count: formatNumber(themes.other) })));
  parts.push(el("p", { class: "hint" }, themes.method));
  return parts;
}
