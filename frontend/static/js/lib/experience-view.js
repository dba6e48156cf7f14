// The IT experience section of a wave's report: satisfaction, effort, time lost and the
// optional recommendation score, each with its interval and its caveat in plain words
// next to the numbers, and the hours lost per month for the wave's audience.
// A suppressed section or measure shows only why it is suppressed (fewer than k answers).
import { el } from "./base.js";
import { formatNumber, t } from "./i18n.js";

const SUPPRESSED = (v) => v !== null && typeof v === "object" && v.suppressed === true;
const known = (x) => x !== null && x !== undefined;
const num = (x, digits = 2) => formatNumber(x, { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (x) => formatNumber(x, { style: "percent", maximumFractionDigits: 0 });

function range(low, high, format) {
  return known(low) && known(high) ? t("95% CI {low} to {high}", { low: format(low), high: format(high) }) : t("no interval");
}

const KIND = {
  csat: t("Satisfaction (CSAT)"),
  effort: t("Customer effort (CES 2.0)"),
  minutes: t("Time lost"),
  nps: t("Likelihood to recommend (NPS)"),
};

function figures(row) {
  const lines = [];
  if (row.kind === "csat" || row.kind === "effort") {
    const scale = row.kind === "csat" ? 5 : 7;
    lines.push(el("li", {}, el("strong", {}, t("Mean {mean} of {scale}", { mean: num(row.mean.value), scale })),
      ` (${range(row.mean.ci_low, row.mean.ci_high, num)})`));
    lines.push(el("li", {}, el("strong", {}, t("{share} {label}", { share: pct(row.share.value), label: row.share.label })),
      ` (${range(row.share.ci_low, row.share.ci_high, pct)}, ${row.share.method})`));
  } else if (row.kind === "minutes") {
    lines.push(el("li", {}, el("strong", {}, t("{minutes} minutes lost per person and month", { minutes: num(row.mean.value, 0) })),
      ` (${range(row.mean.ci_low, row.mean.ci_high, (x) => num(x, 0))}, ${row.mean.method})`));
    const hours = row.hours_per_month;
    if (hours && known(hours.hours)) {
      lines.push(el("li", { class: "hours-lost" }, el("strong", {}, t("{hours} hours lost per month", { hours: num(hours.hours, 0) })),
        ` ${t("across the {audience} people the wave was sent to", { audience: formatNumber(hours.audience) })}`,
        ` (${range(hours.ci_low, hours.ci_high, (x) => num(x, 0))}). ${hours.formula}.`));
    } else if (hours) {
      lines.push(el("li", { class: "hours-lost" }, hours.note));
    }
  } else if (row.kind === "nps") {
    const score = (x) => (x > 0 ? "+" : x < 0 ? "−" : "") + num(Math.abs(x), 0);
    lines.push(el("li", {}, el("strong", {}, t("NPS {score}", { score: score(row.nps.score) })),
      ` (${range(row.nps.ci_low, row.nps.ci_high, score)}; ${t("{promoters} promoters, {passives} passives, {detractors} detractors",
        { promoters: pct(row.nps.promoters), passives: pct(row.nps.passives), detractors: pct(row.nps.detractors) })})`));
  }
  return lines;
}

function measure(row) {
  if (SUPPRESSED(row)) {
    return el("div", { class: "measure suppressed", "data-measure": row.key },
      el("h4", {}, row.title || row.key), el("p", {}, t("Suppressed ({reason}).", { reason: row.reason })));
  }
  return el("div", { class: "measure", "data-measure": row.key },
    el("h4", {}, KIND[row.kind] || row.kind),
    el("p", { class: "muted" }, t("“{statement}” — {n} answers", { statement: row.statement, n: formatNumber(row.n) })),
    el("ul", {}, figures(row)),
    el("p", { class: "hint caveat" }, t("Caveat: {caveat}", { caveat: row.caveat })));
}

/** The experience section's nodes; none when the report has no experience measures. */
export function experienceSection(experience) {
  if (!experience) return [];
  const parts = [el("h3", {}, t("IT experience"))];
  if (SUPPRESSED(experience)) {
    return [...parts, el("p", { class: "suppressed", id: "experience" }, t("Suppressed ({reason}).", { reason: experience.reason }))];
  }
  parts.push(el("section", { id: "experience" },
    el("p", { class: "muted" }, t("{n} responses; nothing is shown for a measure fewer than {k} people answered.",
      { n: formatNumber(experience.n), k: experience.k_scores })),
    experience.measures.map(measure)));
  return parts;
}
