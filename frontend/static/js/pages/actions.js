// Action items dashboard: figures (managers), the filtered list, and new items from a
// wave's ranked candidates (managers). The score charts are rendered by the server.
import { el, fetchJson, problemText, show, waveStatus } from "../lib/base.js";
import { formatDate, formatNumber, t } from "../lib/i18n.js";

const root = document.getElementById("actions");
const isManager = root.dataset.isManager === "true";
const form = document.getElementById("filters");
const list = document.getElementById("action-list");
const metrics = document.getElementById("metrics");
const createBox = document.getElementById("create-action");
const exportLink = document.getElementById("export-link");

export const STATUS_LABELS = { proposed: t("Proposed"), accepted: t("Accepted"), in_progress: t("In progress"), done: t("Done"), wont_do: t("Won’t do") };

function alert(result, fallback) {
  return el("p", { class: "alert", role: "alert" }, problemText(result, fallback));
}

function filterParams() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (value) params.set(name, value);
  return params;
}

function percentBlock(id, label, p) {
  const value = p.percent === null ? "—" : formatNumber(p.percent / 100, { style: "percent", maximumFractionDigits: 1 });
  return el("li", { class: "card", id },
    el("h3", {}, label),
    el("p", { class: "figure" }, el("strong", {}, value), t(" ({count} of {total})", { count: formatNumber(p.numerator), total: formatNumber(p.denominator) })),
    el("details", {}, el("summary", {}, t("How this is counted")), el("p", {}, p.definition)));
}

async function loadMetrics(params) {
  if (!metrics) return;
  const scoped = new URLSearchParams();
  for (const name of ["service_id", "owner_id"]) if (params.get(name)) scoped.set(name, params.get(name));
  const result = await fetchJson(`/api/actions/dashboard?${scoped}`);
  if (!result.ok) return show(metrics, alert(result, t("Could not load the figures.")));
  const d = result.body;
  const first = d.first_answer;
  show(metrics, el("ul", { class: "cards" },
    el("li", { class: "card", id: "m-counts" },
      el("h3", {}, t("Action items")),
      el("p", { class: "figure" }, el("strong", {}, formatNumber(d.total)), t(" in all, "), el("strong", {}, formatNumber(d.overdue)), t(" overdue")),
      el("ul", {}, Object.entries(d.by_status).map(([s, n]) => el("li", { "data-status": s }, `${STATUS_LABELS[s]}: ${formatNumber(n)}`)))),
    percentBlock("m-sla", t("Acted upon within SLA"), d.acted_within_sla),
    percentBlock("m-due", t("Completed by the due date"), d.completed_by_due),
    el("li", { class: "card", id: "m-first-answer" },
      el("h3", {}, t("Median time to first answer on threads")),
      first.available
        ? [el("p", { class: "figure" }, el("strong", {}, first.median_hours === null ? "—" : t("{hours} h", { hours: formatNumber(first.median_hours, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) })),
            t(" ({count} of {total} threads answered)", { count: formatNumber(first.answered), total: formatNumber(first.threads) })),
           el("details", {}, el("summary", {}, t("How this is counted")), el("p", {}, first.definition))]
        : el("p", {}, t("No threads yet.")))));
}

function row(item) {
  const target = item.target_level === "thread" ? t("Feedback thread") : `${item.target_level} ${item.target_key}`;
  const expected = item.expected ? `${item.expected.level} ${item.expected.key}: ${item.expected.change > 0 ? "+" : ""}${formatNumber(item.expected.change)}` : "—";
  return el("tr", { "data-action-id": item.id },
    el("th", { scope: "row" }, el("a", { href: `/actions/${item.id}` }, item.title)),
    el("td", {}, item.service.name),
    el("td", {}, item.owner.name),
    el("td", {}, el("span", { class: `status status-${item.status}` }, STATUS_LABELS[item.status])),
    el("td", {}, item.due_on ? formatDate(item.due_on) : "", item.overdue ? el("strong", { class: "overdue" }, t(" overdue")) : null),
    el("td", {}, target),
    el("td", {}, expected));
}

async function loadList(announce = "") {
  const params = filterParams();
  exportLink.href = `/api/actions/export.csv${params.toString() ? `?${params}` : ""}`;
  const [result] = await Promise.all([fetchJson(`/api/actions?${params}`), loadMetrics(params)]);
  if (!result.ok) return show(list, alert(result, t("Could not load the action items.")));
  const status = el("p", { role: "status", id: "list-status" }, announce || (result.body.length === 1
    ? t("{count} action item.", { count: 1 }) : t("{count} action items.", { count: formatNumber(result.body.length) })));
  if (result.body.length === 0) return show(list, status, el("p", {}, t("No action items match.")));
  show(list, status, el("div", { class: "table-wrap" }, el("table", { id: "action-table" },
    el("caption", { class: "visually-hidden" }, t("Action items")),
    el("thead", {}, el("tr", {}, [t("Title"), t("Service"), t("Owner"), t("Status"), t("Due"), t("Target"), t("Expected effect")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, result.body.map(row)))));
}

async function fillFilters() {
  const services = await fetchJson("/api/services");
  if (!services.ok) return;
  const serviceSelect = document.getElementById("f-service");
  const ownerSelect = document.getElementById("f-owner");
  const owners = new Map();
  for (const s of services.body) {
    serviceSelect.append(el("option", { value: s.id }, s.name));
    for (const o of s.owners) owners.set(o.id, o.display_name);
  }
  for (const [id, name] of owners) ownerSelect.append(el("option", { value: id }, name));
}

function fmt(v) {
  return typeof v === "number" ? formatNumber(v, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).replace("-", "−") : "—";
}

async function showCandidates(waveId, box) {
  show(box, el("p", { class: "muted" }, t("Loading the report…")));
  const result = await fetchJson(`/api/campaigns/${waveId}/report`);
  if (!result.ok) return show(box, alert(result, t("Could not load the report.")));
  const candidates = result.body.candidates || [];
  if (candidates.length === 0) return show(box, el("p", {}, t("This wave has no ranked candidates (no gap is significantly below zero, or the report is suppressed).")));
  const message = el("div", { role: "status", id: "create-status" });
  const rows = candidates.map((c, i) => {
    const id = `exp-${i}`;
    const input = el("input", { id, type: "number", step: "0.1", min: "-12", max: "12", value: "0.5", class: "narrow" });
    const button = el("button", { type: "button", class: "secondary" }, t("Create action item"),
      el("span", { class: "visually-hidden" }, t(" for {level} {target}", { level: c.level, target: c.target })));
    button.addEventListener("click", async () => {
      button.disabled = true;
      const change = input.value === "" ? null : Number(input.value);
      const body = { campaign_id: waveId, level: c.level, target: c.target };
      if (change !== null) body.expected_change = change;
      const created = await fetchJson("/api/actions", { method: "POST", json: body });
      button.disabled = false;
      if (!created.ok) return show(message, alert(created, t("Could not create the action item.")));
      show(message, el("p", { class: "success" }, t("Created "), el("a", { href: `/actions/${created.body.item.id}` }, created.body.item.title), "."));
      await loadList();
    });
    return el("tr", { "data-candidate": `${c.level}:${c.target}` },
      el("td", { class: "num" }, String(c.rank)),
      el("th", { scope: "row" }, `${c.level} ${c.target}`),
      el("td", { class: "num" }, t("{gap} [{low}, {high}]", { gap: fmt(c.mean_gap), low: fmt(c.ci_low), high: fmt(c.ci_high) })),
      el("td", {}, c.reason),
      el("td", {}, el("label", { for: id, class: "visually-hidden" }, t("Expected gap change for {level} {target}", { level: c.level, target: c.target })), input),
      el("td", {}, button));
  });
  show(box, message, el("div", { class: "table-wrap" }, el("table", { id: "candidate-table" },
    el("caption", {}, t("Ranked candidates: the expected change is locked once the item is accepted")),
    el("thead", {}, el("tr", {}, [t("Rank"), t("Target"), t("Gap [95% CI]"), t("Why"), t("Expected gap change"), ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows))));
}

async function buildCreate() {
  const waves = await fetchJson("/api/campaigns");
  if (!waves.ok) return show(createBox, alert(waves, t("Could not load the waves.")));
  // Candidates come from a wave's report, which exists only once the wave has closed.
  const usable = waves.body.filter((w) => w.status === "closed");
  if (usable.length === 0) return show(createBox, el("p", {}, t("No closed waves yet: a wave’s ranked candidates appear when it closes.")));
  const select = el("select", { id: "c-wave" }, el("option", { value: "" }, t("Choose a wave…")),
    usable.map((w) => el("option", { value: w.id }, `${w.title} — ${w.service.name} (${waveStatus(w.status)})`)));
  const box = el("div", { id: "candidates", "aria-live": "polite" });
  select.addEventListener("change", () => (select.value ? showCandidates(select.value, box) : show(box)));
  show(createBox, el("div", { class: "field" }, el("label", { for: "c-wave" }, t("Survey wave")), select), box);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  loadList();
});

await fillFilters();
await loadList();
if (isManager && createBox) await buildCreate();
root.dataset.ready = "true";
