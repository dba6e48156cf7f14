// Survey waves: the list (managers, admins, owners) and, for managers, create/open/close.
import { el, fetchJson, groupHex, problemText, show, waveStatus } from "../lib/base.js";
import { clearFieldErrors, showFieldErrors } from "../lib/field-errors.js";
import { field } from "../lib/forms.js";
import { needed, plan } from "../lib/planning.js";
import { formatDate, formatNumber, t } from "../lib/i18n.js";

const list = document.getElementById("waves");
const canManage = list.dataset.canManage === "true";
const createBox = document.getElementById("create-wave");

function statusBadge(status) {
  return el("span", { class: `status status-${status}` }, waveStatus(status));
}

async function act(wave, verb, message) {
  const result = await fetchJson(`/api/campaigns/${wave.id}/${verb}`, { method: "POST" });
  if (result.ok) {
    await load(t("“{title}” is now {status}.", { title: wave.title, status: waveStatus(result.body.status) }));
  } else {
    show(message, el("p", { class: "alert", role: "alert" }, problemText(result, verb === "open" ? t("Could not open the wave.") : t("Could not close the wave."))));
  }
}

async function load(announce = "") {
  const result = await fetchJson("/api/campaigns");
  if (result.status === 404) return show(list, el("p", {}, t("No waves yet.")));
  if (!result.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(result, t("Could not load the waves."))));
  const waves = result.body;
  const message = el("div", { id: "wave-message", role: "status" }, announce ? el("p", { class: "success" }, announce) : null);
  if (waves.length === 0) return show(list, message, el("p", {}, t("No waves yet.")));
  const rows = waves.map((wave) => el("tr", { "data-campaign-id": wave.id },
    el("th", { scope: "row" }, el("a", { href: `/waves/${wave.id}` }, wave.title)),
    el("td", {}, wave.service.name),
    el("td", {}, statusBadge(wave.status)),
    el("td", {}, `${formatDate(wave.opens_on)} – ${formatDate(wave.closes_on)}`),
    el("td", { class: "num" }, `${formatNumber(wave.k_scores)} / ${formatNumber(wave.k_comments)}`),
    el("td", {}, wave.token_key_id ? el("code", { title: wave.token_key_id }, groupHex(wave.token_key_id.slice(0, 16)), "…") : "—"),
    canManage ? el("td", {},
      wave.status === "draft" ? el("button", { type: "button", class: "secondary", onclick: () => act(wave, "open", message) }, t("Open"), el("span", { class: "visually-hidden" }, ` ${wave.title}`)) : null,
      wave.status === "open" ? el("button", { type: "button", class: "secondary", onclick: () => act(wave, "close", message) }, t("Close"), el("span", { class: "visually-hidden" }, ` ${wave.title}`)) : null) : null));
  show(list, message, el("div", { class: "table-wrap" }, el("table", {},
    el("caption", { class: "visually-hidden" }, t("Survey waves")),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, t("Wave")), el("th", { scope: "col" }, t("Service")), el("th", { scope: "col" }, t("Status")),
      el("th", { scope: "col" }, t("Dates")), el("th", { scope: "col", class: "num" }, t("k scores / comments")),
      el("th", { scope: "col" }, t("Token key id")), canManage ? el("th", { scope: "col" }, t("Actions")) : null)),
    el("tbody", {}, rows))));
}

function select(id, name, options) {
  return el("select", { id, name, required: true }, el("option", { value: "" }, t("Choose…")),
    options.map(([value, text]) => el("option", { value }, text)));
}

async function buildCreateForm() {
  const [services, instruments, groups] = await Promise.all([
    fetchJson("/api/services"), fetchJson("/api/instruments"), fetchJson("/api/groups"),
  ]);
  if (!services.ok || !instruments.ok || !groups.ok) {
    return show(createBox, el("p", { class: "alert", role: "alert" }, problemText([services, instruments, groups].find((r) => !r.ok), t("Could not load the choices."))));
  }
  const inputs = {
    title: el("input", { id: "w-title", name: "title", type: "text", required: true, maxlength: "200" }),
    description: el("textarea", { id: "w-description", name: "description" }),
    service_id: select("w-service", "service_id", services.body.map((s) => [s.id, s.name])),
    instrument_id: select("w-instrument", "instrument_id", instruments.body.map((i) => [i.id, `${i.title} (${i.id} ${i.version})`])),
    audience_group_id: select("w-audience", "audience_group_id", groups.body.map((g) => [g.id, t("{name} ({count} people)", { name: g.name, count: formatNumber(g.member_count) })])),
    opens_on: el("input", { id: "w-opens", name: "opens_on", type: "date", required: true }),
    closes_on: el("input", { id: "w-closes", name: "closes_on", type: "date", required: true }),
    k_scores: el("input", { id: "w-k-scores", name: "k_scores", type: "number", min: "2", step: "1", value: "5" }),
    k_comments: el("input", { id: "w-k-comments", name: "k_comments", type: "number", min: "2", step: "1", value: "10" }),
  };
  for (const [name, input] of Object.entries(inputs)) input.dataset.field = name;
  // Planning: not sent with the wave; it only says what precision to expect.
  const rate = el("input", { id: "w-rate", type: "number", min: "1", max: "100", step: "1", value: "40" });
  const planOut = el("p", { id: "w-plan", class: "hint", "aria-live": "polite" });
  const sizes = new Map(groups.body.map((g) => [g.id, g.member_count]));
  const updatePlan = () => {
    const audience = sizes.get(inputs.audience_group_id.value) || 0;
    const k = Number(inputs.k_scores.value) || 5;
    const p = plan({ audience, rate: Math.min(Math.max(Number(rate.value) || 0, 0), 100) / 100, sd: 1.5 });
    if (!audience) return show(planOut, t("Choose an audience to see what precision to expect."));
    const parts = [t("About {expected} answers from {audience} people.", { expected: formatNumber(p.expected), audience: formatNumber(audience) })];
    if (p.expected < k) parts.push(t("That is fewer than k = {k}: the report would stay suppressed.", { k: formatNumber(k) }));
    else if (p.moeMean !== null) {
      parts.push(t("Margin of error (95%): ±{mean} on a mean score (SD 1.5 assumed, typical on a 7-point scale), ±{points} percentage points on a share.", {
        mean: formatNumber(p.moeMean, { minimumFractionDigits: 2, maximumFractionDigits: 2 }), points: formatNumber(Math.round(p.moeProportion * 100)) }));
    }
    parts.push(t("For ±5 points on a share you need {count} answers.", { count: formatNumber(needed(Math.max(audience, 2), 0.05)) }));
    show(planOut, parts.join(" "));
  };
  for (const input of [rate, inputs.audience_group_id, inputs.k_scores]) input.addEventListener("input", updatePlan);
  inputs.audience_group_id.addEventListener("change", updatePlan);
  updatePlan();
  const summary = el("div", { class: "alert", role: "alert", tabindex: "-1", hidden: true, id: "create-errors" });
  const form = el("form", { id: "create-form", class: "stack", novalidate: true },
    summary,
    field(inputs.title, t("Title")),
    field(inputs.description, t("Description (optional)")),
    field(inputs.service_id, t("Service")),
    field(inputs.instrument_id, t("Instrument")),
    field(inputs.audience_group_id, t("Audience group"), t("Who may answer. A wave's audience must have at least k people.")),
    field(rate, t("Expected response rate (%)"), t("For planning only: not stored.")),
    planOut,
    field(inputs.opens_on, t("Opens on")),
    field(inputs.closes_on, t("Closes on")),
    field(inputs.k_scores, t("k for scores"), t("Scores stay suppressed until at least this many people answered.")),
    field(inputs.k_comments, t("k for comments"), t("Comments stay hidden until at least this many people answered.")),
    el("div", { class: "actions" }, el("button", { type: "submit" }, t("Create the wave (as a draft)"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = {};
    for (const [name, input] of Object.entries(inputs)) {
      const value = input.value.trim();
      if (value === "" && ["description", "k_scores", "k_comments"].includes(name)) continue;
      body[name] = name.startsWith("k_") ? Number(value) : value;
    }
    const missing = Object.entries(inputs).filter(([name, input]) => input.required && !body[name]).map(([name]) => ({ field: name, reason: t("Required.") }));
    const result = missing.length ? { ok: false, status: 422, body: { errors: missing } } : await fetchJson("/api/campaigns", { method: "POST", json: body });
    if (result.ok) {
      form.reset();
      summary.hidden = true;
      await load(t("Created “{title}” as a draft. Open it when you are ready.", { title: result.body.title }));
      document.getElementById("wave-message")?.querySelector("p")?.setAttribute("tabindex", "-1");
      document.getElementById("wave-message")?.querySelector("p")?.focus();
      return;
    }
    showFieldErrors(form, summary, (result.body && result.body.errors) || [], {
      heading: t("The wave was not created"), fallback: problemText(result, t("Could not create the wave.")),
    });
  });
  show(createBox, form);
}

await load();
if (canManage && createBox) await buildCreateForm();
