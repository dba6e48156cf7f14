// One wave: its settings, progress (rounded down to multiples of k) and, once it has closed, its report.
// An open wave has no results: two reads a response apart would give that response away.
// The report's views load only for a report to show, the experience view only for a report
// with experience measures (import()): the page's static module graph stays light (issue 19).
import { el, fetchJson, groupHex, problemText, show, waveStatus } from "../lib/base.js";
import { formatDate, formatNumber, t } from "../lib/i18n.js";

const root = document.getElementById("wave");
const id = root.dataset.campaignId;

/** A progress count as the API gives it: rounded down to a whole multiple of k, null below k. */
function count(value, k) {
  return value === null || value === undefined
    ? el("span", { class: "suppressed" }, t("fewer than {k}", { k: formatNumber(k) }))
    : t("at least {count}", { count: formatNumber(value) });
}

const SUPPRESSED = (v) => v !== null && typeof v === "object" && v.suppressed === true;

/** A report value: numbers to two places, the suppressed marker as "suppressed". */
function cell(value) {
  if (SUPPRESSED(value)) return el("td", { class: "suppressed" }, t("suppressed"));
  if (value === null || value === undefined) return el("td", {}, "—");
  if (typeof value === "number") return el("td", { class: "num" }, Number.isInteger(value) ? formatNumber(value) : formatNumber(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
  if (typeof value === "object") return el("td", {}, JSON.stringify(value));
  return el("td", {}, String(value));
}

const COLUMNS = [
  ["title", t("Dimension")], ["wording", t("Statement")], ["key", t("Key")], ["dimension", t("Dimension")], ["n", "n"],
  ["mean_expectation", t("Mean E")], ["mean_minimum", t("Mean min")], ["mean_desired", t("Mean desired")],
  ["mean_perception", t("Mean P")], ["mean_gap", t("Gap")], ["ci_low", t("CI low")], ["ci_high", t("CI high")],
  ["p_adjusted", t("p (adjusted)")], ["d_z", "d_z"], ["importance_weight", t("Weight")],
];

/** One table of report rows, with the columns this report has. */
function rowsTable(caption, rows, columns = COLUMNS) {
  if (SUPPRESSED(rows)) return el("p", { class: "suppressed" }, t("{caption}: suppressed ({reason}).", { caption, reason: rows.reason }));
  if (!Array.isArray(rows) || rows.length === 0) return null;
  const present = columns.filter(([key]) => rows.some((row) => key in row));
  return el("div", { class: "table-wrap" }, el("table", {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, present.map(([, label]) => el("th", { scope: "col" }, label)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, present.map(([key]) => cell(row[key])))))));
}

/** Fetch one SVG chart and place it inline (its <title> and <desc> stay readable). */
async function chart(name) {
  let response;
  try {
    response = await fetch(`/api/campaigns/${id}/charts/${name}`, { credentials: "same-origin" });
  } catch {
    return null;
  }
  if (!response.ok || !(response.headers.get("content-type") || "").includes("svg")) return null;
  const doc = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") return null;
  // Charts are our own markup; still, nothing active is carried over.
  for (const node of svg.querySelectorAll("script, foreignObject")) node.remove();
  for (const node of [svg, ...svg.querySelectorAll("*")]) {
    for (const attr of [...node.attributes]) {
      if (/^on/i.test(attr.name) || attr.name === "style" || /^\s*javascript:/i.test(attr.value)) node.removeAttribute(attr.name);
    }
  }
  return el("figure", { class: "chart" }, document.importNode(svg, true));
}

async function reportParts(report) {
  const out = [];
  if (typeof report.n === "number") out.push(el("p", { id: "report-n" }, t("Responses analysed: {n}.", { n: formatNumber(report.n) })));
  else if (SUPPRESSED(report.n)) out.push(el("p", { id: "report-n", class: "suppressed" }, t("Responses analysed: suppressed ({reason}).", { reason: report.n.reason })));
  if (report.suppressed === true) {
    out.push(el("p", { class: "suppressed", id: "report-suppressed" }, t("The report is suppressed until enough people have answered: {reason}.", { reason: report.reason || (report.n && report.n.reason) || t("too few responses") })));
    return out;
  }
  // Summary first; everything else below, collapsed.
  const [trend, { driversSection, summarySection, themesSection, trendSection }, { experienceSection }] = await Promise.all([
    fetchJson(`/api/campaigns/${id}/trend`), import("../lib/decision-view.js"),
    report.experience ? import("../lib/experience-view.js") : { experienceSection: () => [] }]);
  out.push(...summarySection(report.summary), ...trendSection(trend.ok ? trend.body : null),
    ...driversSection(report.drivers), ...experienceSection(report.experience), ...themesSection(report.themes));
  const full = [];
  if (report.gap_definition) full.push(el("p", { class: "muted" }, report.gap_definition));
  const charts = (await Promise.all(["dimension-gaps", "item-gaps", "importance-performance"].map(chart))).filter(Boolean);
  if (charts.length) full.push(el("h3", {}, t("Charts")), charts);
  full.push(rowsTable(t("Dimensions"), report.dimensions), rowsTable(t("Items"), report.items));
  const wording = Object.fromEntries((report.items || []).map((r) => [r.key, r.wording || r.key]));
  if (Array.isArray(report.candidates)) {
    full.push(el("h3", {}, t("All ranked action candidates")));
    full.push(report.candidates.length
      ? el("ol", { id: "all-candidates" }, report.candidates.map((c) => el("li", {}, el("strong", {}, wording[c.target] || c.target), t(" ({target}, priority {priority}): ", { target: c.target, priority: formatNumber(Number(c.priority), { minimumFractionDigits: 2, maximumFractionDigits: 2 }) }), c.reason)))
      : el("p", {}, t("No gap stays significant after adjustment, so there is no candidate.")));
    if (report.priority_formula) full.push(el("p", { class: "muted" }, t("Priority: {formula}", { formula: report.priority_formula })));
  }
  const comments = report.comments;
  full.push(el("h3", {}, t("Comments")));
  if (SUPPRESSED(comments)) full.push(el("p", { class: "suppressed" }, t("Comments are suppressed ({reason}).", { reason: comments.reason })));
  else if (comments && comments.by_prompt) {
    const lists = Object.entries(comments.by_prompt).map(([prompt, texts]) => [el("h4", {}, prompt), el("ul", {}, texts.map((text) => el("li", {}, text)))]);
    full.push(lists.length ? lists : el("p", {}, t("No comments.")));
  }
  if (Array.isArray(report.notes) && report.notes.length) full.push(el("h3", {}, t("Notes")), el("ul", {}, report.notes.map((n) => el("li", {}, String(n)))));
  out.push(el("details", { id: "full-analysis" }, el("summary", {}, t("Full analysis: tables, charts, all candidates, comments")), full));
  return out;
}

const waveResult = await fetchJson(`/api/campaigns/${id}`);
if (!waveResult.ok) {
  show(root, el("h1", {}, t("Wave report")), el("p", { class: "alert", role: "alert" }, problemText(waveResult, t("Could not load the wave."))));
} else {
  const wave = waveResult.body;
  const closed = wave.status === "closed";
  const [progress, report] = await Promise.all([
    fetchJson(`/api/campaigns/${id}/progress`),
    closed ? fetchJson(`/api/campaigns/${id}/report`) : null,
  ]);
  const head = [
    el("h1", { id: "wave-title" }, wave.title),
    el("p", { class: "muted" }, `${wave.service.name} · ${wave.instrument_id} · ${waveStatus(wave.status)} · ${formatDate(wave.opens_on)} – ${formatDate(wave.closes_on)}`),
  ];
  const details = [
    el("h2", {}, t("Thresholds and key")),
    el("ul", {},
      el("li", {}, t("Scores shown from {k_scores} answers; comments from {k_comments}.", { k_scores: formatNumber(wave.k_scores), k_comments: formatNumber(wave.k_comments) })),
      el("li", {}, t("Token key id: "), wave.token_key_id ? el("code", {}, groupHex(wave.token_key_id)) : t("none yet (the key is made when the wave opens)"))),
    el("h2", {}, t("Progress")),
  ];
  if (progress.ok) {
    details.push(el("dl", {},
      el("dt", {}, t("Tokens issued")), el("dd", { id: "tokens-issued" }, count(progress.body.tokens_issued, progress.body.k)),
      el("dt", {}, t("Answers")), el("dd", { id: "responses" }, count(progress.body.responses, progress.body.k))),
      el("p", { class: "hint", id: "progress-rounding" }, progress.body.rounding));
  } else {
    details.push(el("p", {}, problemText(progress, t("Progress is not available."))));
  }
  const results = [el("h2", {}, t("Report"))];
  if (!closed) {
    results.push(el("p", { id: "report-not-yet" }, t("Results appear when the wave closes on {day}. ", { day: formatDate(wave.closes_on) }),
      t("Until then nothing is shown, so that no one can compare two readings and learn one person’s answers.")));
  } else if (report.status === 409) {
    results.push(el("p", { id: "report-not-yet" }, problemText(report, t("Results appear when the wave closes on {day}.", { day: formatDate(wave.closes_on) }))));
  } else if (report.ok && report.body) {
    results.push(...(await reportParts(report.body)));
    // Exports hold the report's aggregates only: suppressed cells stay suppressed, comments stay out.
    results.push(el("p", { class: "actions", id: "report-exports" },
      el("a", { class: "button secondary", href: `/api/campaigns/${id}/export/csv`, download: "" }, t("Download the report (CSV)")),
      el("a", { class: "button secondary", href: `/api/campaigns/${id}/export/json`, download: "" }, t("Download the report (JSON)"))),
      el("p", { class: "hint" }, t("The downloads hold the report's figures (suppressed cells stay suppressed), not its comments.")));
  } else if (report.status === 404) {
    results.push(el("p", { id: "no-report" }, t("The gap report is not available yet.")));
  } else {
    results.push(el("p", {}, problemText(report, t("The report could not be loaded."))));
  }
  // A closed wave opens with its results (summary first); an open one with its progress.
  const parts = closed ? [...head, ...results, ...details] : [...head, ...details, ...results];
  show(root, parts);
}
