// Survey waves: the list (managers, admins, owners) and, for managers, create/open/close.
import { el, fetchJson, groupHex, problemText, show } from "./lib.js";

const list = document.getElementById("waves");
const canManage = list.dataset.canManage === "true";
const createBox = document.getElementById("create-wave");

function statusBadge(status) {
  return el("span", { class: `status status-${status}` }, status);
}

async function act(wave, verb, message) {
  const result = await fetchJson(`/api/campaigns/${wave.id}/${verb}`, { method: "POST" });
  if (result.ok) {
    await load(`“${wave.title}” is now ${result.body.status}.`);
  } else {
    show(message, el("p", { class: "alert", role: "alert" }, problemText(result, `Could not ${verb} the wave.`)));
  }
}

async function load(announce = "") {
  const result = await fetchJson("/api/campaigns");
  if (result.status === 404) return show(list, el("p", {}, "No waves yet."));
  if (!result.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(result, "Could not load the waves.")));
  const waves = result.body;
  const message = el("div", { id: "wave-message", role: "status" }, announce ? el("p", { class: "success" }, announce) : null);
  if (waves.length === 0) return show(list, message, el("p", {}, "No waves yet."));
  const rows = waves.map((wave) => el("tr", { "data-campaign-id": wave.id },
    el("th", { scope: "row" }, el("a", { href: `/waves/${wave.id}` }, wave.title)),
    el("td", {}, wave.service.name),
    el("td", {}, statusBadge(wave.status)),
    el("td", {}, `${wave.opens_on} – ${wave.closes_on}`),
    el("td", { class: "num" }, `${wave.k_scores} / ${wave.k_comments}`),
    el("td", {}, wave.token_key_id ? el("code", { title: wave.token_key_id }, groupHex(wave.token_key_id.slice(0, 16)), "…") : "—"),
    canManage ? el("td", {},
      wave.status === "draft" ? el("button", { type: "button", class: "secondary", onclick: () => act(wave, "open", message) }, "Open", el("span", { class: "visually-hidden" }, ` ${wave.title}`)) : null,
      wave.status === "open" ? el("button", { type: "button", class: "secondary", onclick: () => act(wave, "close", message) }, "Close", el("span", { class: "visually-hidden" }, ` ${wave.title}`)) : null) : null));
  show(list, message, el("div", { class: "table-wrap" }, el("table", {},
    el("caption", { class: "visually-hidden" }, "Survey waves"),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "Wave"), el("th", { scope: "col" }, "Service"), el("th", { scope: "col" }, "Status"),
      el("th", { scope: "col" }, "Dates"), el("th", { scope: "col", class: "num" }, "k scores / comments"),
      el("th", { scope: "col" }, "Token key id"), canManage ? el("th", { scope: "col" }, "Actions") : null)),
    el("tbody", {}, rows))));
}

function field(id, label, input, hint) {
  return el("div", { class: "field", "data-field": input.name },
    el("label", { for: id }, label),
    hint ? el("span", { class: "hint", id: `${id}-hint` }, hint) : null,
    input,
    el("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

function select(id, name, options) {
  return el("select", { id, name, required: true }, el("option", { value: "" }, "Choose…"),
    options.map(([value, text]) => el("option", { value }, text)));
}

async function buildCreateForm() {
  const [services, instruments, groups] = await Promise.all([
    fetchJson("/api/services"), fetchJson("/api/instruments"), fetchJson("/api/groups"),
  ]);
  if (!services.ok || !instruments.ok || !groups.ok) {
    return show(createBox, el("p", { class: "alert", role: "alert" }, problemText([services, instruments, groups].find((r) => !r.ok), "Could not load the choices.")));
  }
  const inputs = {
    title: el("input", { id: "w-title", name: "title", type: "text", required: true, maxlength: "200" }),
    description: el("textarea", { id: "w-description", name: "description" }),
    service_id: select("w-service", "service_id", services.body.map((s) => [s.id, s.name])),
    instrument_id: select("w-instrument", "instrument_id", instruments.body.map((i) => [i.id, `${i.title} (${i.id} ${i.version})`])),
    audience_group_id: select("w-audience", "audience_group_id", groups.body.map((g) => [g.id, `${g.name} (${g.member_count} people)`])),
    opens_on: el("input", { id: "w-opens", name: "opens_on", type: "date", required: true }),
    closes_on: el("input", { id: "w-closes", name: "closes_on", type: "date", required: true }),
    k_scores: el("input", { id: "w-k-scores", name: "k_scores", type: "number", min: "2", step: "1", value: "5" }),
    k_comments: el("input", { id: "w-k-comments", name: "k_comments", type: "number", min: "2", step: "1", value: "10" }),
  };
  for (const input of Object.values(inputs)) {
    const hint = document.getElementById(`${input.id}-hint`);
    if (hint) input.setAttribute("aria-describedby", hint.id);
  }
  const summary = el("div", { class: "alert", role: "alert", tabindex: "-1", hidden: true, id: "create-errors" });
  const form = el("form", { id: "create-form", class: "stack", novalidate: true },
    summary,
    field("w-title", "Title", inputs.title),
    field("w-description", "Description (optional)", inputs.description),
    field("w-service", "Service", inputs.service_id),
    field("w-instrument", "Instrument", inputs.instrument_id),
    field("w-audience", "Audience group", inputs.audience_group_id, "Who may answer. A wave's audience must have at least k people."),
    field("w-opens", "Opens on", inputs.opens_on),
    field("w-closes", "Closes on", inputs.closes_on),
    field("w-k-scores", "k for scores", inputs.k_scores, "Scores stay suppressed until at least this many people answered."),
    field("w-k-comments", "k for comments", inputs.k_comments, "Comments stay hidden until at least this many people answered."),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Create the wave (as a draft)")));
  for (const [name, input] of Object.entries(inputs)) {
    const hint = form.querySelector(`#${input.id}-hint`);
    if (hint) input.setAttribute("aria-describedby", hint.id);
    input.dataset.name = name;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const node of form.querySelectorAll(".field-error")) { node.hidden = true; node.textContent = ""; }
    for (const input of Object.values(inputs)) {
      input.removeAttribute("aria-invalid");
      const hint = form.querySelector(`#${input.id}-hint`);
      if (hint) input.setAttribute("aria-describedby", hint.id); else input.removeAttribute("aria-describedby");
    }
    const body = {};
    for (const [name, input] of Object.entries(inputs)) {
      const value = input.value.trim();
      if (value === "" && ["description", "k_scores", "k_comments"].includes(name)) continue;
      body[name] = name.startsWith("k_") ? Number(value) : value;
    }
    const missing = Object.entries(inputs).filter(([name, input]) => input.required && !body[name]).map(([name]) => ({ field: name, reason: "Required." }));
    const result = missing.length ? { ok: false, status: 422, body: { errors: missing } } : await fetchJson("/api/campaigns", { method: "POST", json: body });
    if (result.ok) {
      form.reset();
      summary.hidden = true;
      await load(`Created “${result.body.title}” as a draft. Open it when you are ready.`);
      document.getElementById("wave-message")?.querySelector("p")?.setAttribute("tabindex", "-1");
      document.getElementById("wave-message")?.querySelector("p")?.focus();
      return;
    }
    const errors = (result.body && result.body.errors) || [];
    const items = [];
    for (const error of errors) {
      const input = inputs[error.field];
      if (input) {
        const slot = form.querySelector(`#${input.id}-error`);
        slot.hidden = false;
        slot.textContent = error.reason;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") || ""} ${slot.id}`.trim());
        items.push(el("li", {}, el("a", { href: `#${input.id}` }, `${form.querySelector(`label[for="${input.id}"]`).textContent}: ${error.reason}`)));
      } else {
        items.push(el("li", {}, `${error.field}: ${error.reason}`));
      }
    }
    show(summary, el("h2", {}, "The wave was not created"), items.length ? el("ul", {}, items) : el("p", {}, problemText(result, "Could not create the wave.")));
    summary.hidden = false;
    summary.focus();
  });
  show(createBox, form);
}

await load();
if (canManage && createBox) await buildCreateForm();
