// One wave: its settings, progress (suppressed below k) and, when the analysis lands, its report.
import { el, fetchJson, groupHex, problemText, show } from "./lib.js";

const root = document.getElementById("wave");
const id = root.dataset.campaignId;

function count(value, k) {
  return value === null || value === undefined
    ? el("span", { class: "suppressed" }, `suppressed (fewer than ${k})`)
    : String(value);
}

/** A report value: numbers as they are, null as "suppressed". */
function cell(value) {
  if (value === null) return el("td", { class: "suppressed" }, "suppressed");
  if (typeof value === "number") return el("td", { class: "num" }, Number.isInteger(value) ? String(value) : value.toFixed(2));
  if (typeof value === "object") return el("td", {}, JSON.stringify(value));
  return el("td", {}, String(value));
}

function reportTables(report) {
  // The report's shape comes from analysis/: show every list of flat rows as a table.
  const out = [];
  for (const [name, value] of Object.entries(report)) {
    if (Array.isArray(value) && value.length && typeof value[0] === "object" && value[0] !== null) {
      const columns = Object.keys(value[0]).filter((c) => typeof value[0][c] !== "object" || value[0][c] === null);
      out.push(el("h3", {}, name.replace(/_/g, " ")),
        el("div", { class: "table-wrap" }, el("table", {},
          el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c.replace(/_/g, " "))))),
          el("tbody", {}, value.map((row) => el("tr", {}, columns.map((c) => cell(row[c]))))))));
    } else if (value === null || typeof value !== "object") {
      out.push(el("p", {}, `${name.replace(/_/g, " ")}: `, value === null ? el("span", { class: "suppressed" }, "suppressed") : String(value)));
    }
  }
  return out;
}

const waveResult = await fetchJson(`/api/campaigns/${id}`);
if (!waveResult.ok) {
  show(root, el("h1", {}, "Wave report"), el("p", { class: "alert", role: "alert" }, problemText(waveResult, "Could not load the wave.")));
} else {
  const wave = waveResult.body;
  const [progress, report] = await Promise.all([
    fetchJson(`/api/campaigns/${id}/progress`),
    fetchJson(`/api/campaigns/${id}/report`),
  ]);
  const parts = [
    el("h1", { id: "wave-title" }, wave.title),
    el("p", { class: "muted" }, `${wave.service.name} · ${wave.instrument_id} · ${wave.status} · ${wave.opens_on} – ${wave.closes_on}`),
    el("h2", {}, "Thresholds and key"),
    el("ul", {},
      el("li", {}, `Scores shown from ${wave.k_scores} answers; comments from ${wave.k_comments}.`),
      el("li", {}, "Token key id: ", wave.token_key_id ? el("code", {}, groupHex(wave.token_key_id)) : "none yet (the key is made when the wave opens)")),
    el("h2", {}, "Progress"),
  ];
  if (progress.ok) {
    parts.push(el("dl", {},
      el("dt", {}, "Tokens issued"), el("dd", { id: "tokens-issued" }, count(progress.body.tokens_issued, progress.body.k)),
      el("dt", {}, "Answers"), el("dd", { id: "responses" }, count(progress.body.responses, progress.body.k))));
  } else {
    parts.push(el("p", {}, problemText(progress, "Progress is not available.")));
  }
  parts.push(el("h2", {}, "Report"));
  if (report.ok && report.body) {
    parts.push(...reportTables(report.body));
  } else if (report.status === 404 || report.status === 405) {
    parts.push(el("p", { id: "no-report" }, "The gap report is not available yet."));
  } else {
    parts.push(el("p", {}, problemText(report, "The report could not be loaded.")));
  }
  show(root, parts);
}
