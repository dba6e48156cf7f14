// The service catalogue (admins and managers): the list with archived services, creating
// a service, and per service its description, service levels, owners and archiving.
// Owners are chosen among active accounts with the owner role, listed by the page itself.
// The panel also shows the service's thread figures, and to admins its service-desk webhook:
// their code (lib/service-threads.js) loads when a panel first opens (import()), so the
// page's static module graph stays light (issue 19).
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { checkboxes, ticked } from "../lib/checkboxes.js";
import { apiForm, field, input, openPanel, required, say, wholeNumber } from "../lib/forms.js";
import { formatNumber, t } from "../lib/i18n.js";

const HOURS = [1, 24 * 365];
const DAYS = [1, 3650];
const list = document.getElementById("services");
const panel = document.getElementById("edit-service");
const createBox = document.getElementById("create-service");
const webhooks = panel.hasAttribute("data-webhooks"); // admins only; the API refuses managers anyway
const candidates = [...document.querySelectorAll("#owner-candidates li")].map((li) => ({
  id: li.dataset.id, label: `${li.textContent} (${li.dataset.email})`,
}));
let services = [];

async function load() {
  const result = await fetchJson("/api/services?include_archived=true");
  list.removeAttribute("aria-busy");
  if (!result.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(result, t("Could not load the services."))));
  services = result.body;
  if (!services.length) return show(list, el("p", {}, t("No services yet.")));
  show(list, el("div", { class: "table-wrap" }, el("table", {},
    el("caption", { class: "visually-hidden" }, t("Services")),
    el("thead", {}, el("tr", {}, [t("Service"), t("Owners"), t("First answer within"), t("Act on action items within"), t("Status"), t("Actions")]
      .map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, services.map((s) => el("tr", { "data-service-id": s.id },
      el("th", { scope: "row" }, s.name),
      el("td", {}, s.owners.length ? s.owners.map((o) => o.display_name).join(", ") : "none"),
      el("td", {}, t("{hours} h", { hours: formatNumber(s.sla_first_answer_hours) })),
      el("td", {}, s.sla_action_days === 1 ? t("{count} day", { count: 1 }) : t("{count} days", { count: formatNumber(s.sla_action_days) })),
      el("td", {}, el("span", { class: s.archived ? "status status-closed" : "status status-open" }, s.archived ? t("archived") : t("active"))),
      el("td", {}, el("button", { type: "button", class: "secondary", "data-manage": s.id, onclick: () => edit(s.id) },
        t("Edit"), el("span", { class: "visually-hidden" }, ` ${s.name}`)))))))));
}

/** The fields a service is created and edited with; `service` fills them in. */
function serviceFields(prefix, service) {
  const f = {
    name: input(`${prefix}-name`, "name", { required: true, maxlength: "200", autocomplete: "off", value: service?.name ?? null }),
    description: input(`${prefix}-description`, "description", { multiline: true, maxlength: "4000" }),
    hours: input(`${prefix}-hours`, "sla_first_answer_hours", { type: "number", inputmode: "numeric", min: HOURS[0], max: HOURS[1], step: "1",
      required: true, value: service?.sla_first_answer_hours ?? 24 }),
    days: input(`${prefix}-days`, "sla_action_days", { type: "number", inputmode: "numeric", min: DAYS[0], max: DAYS[1], step: "1",
      required: true, value: service?.sla_action_days ?? 30 }),
  };
  f.description.value = service?.description ?? "";
  const current = new Set((service?.owners ?? []).map((o) => o.id));
  // An owner who lost the owner role still shows, ticked, so that saving says why it fails.
  const former = (service?.owners ?? []).filter((o) => !candidates.some((c) => c.id === o.id))
    .map((o) => ({ id: o.id, label: t("{name} (no longer holds the owner role)", { name: o.display_name }) }));
  const options = [...candidates, ...former].map((c) => ({ value: c.id, label: c.label, checked: current.has(c.id) }));
  f.owners = options.length
    ? checkboxes({ id: `${prefix}-owners`, legend: t("Owners"), name: "owner_ids", options, filter: options.length > 8,
      hint: t("Owners answer the service's feedback and see its waves. Only accounts with the owner role are listed.") })
    : el("p", { id: `${prefix}-owners`, "data-field": "owner_ids" },
      t("No active account holds the owner role yet, so there is nobody to choose. An admin gives the role on the Accounts page."));
  f.fields = [field(f.name, t("Name")), field(f.description, t("Description (optional)")),
    field(f.hours, t("First answer within (hours)"), t("How soon an owner answers new feedback, 1 to 8760 hours.")),
    field(f.days, t("Act on action items within (days)"), t("How soon a proposed action item is accepted, 1 to 3650 days.")), f.owners];
  f.check = () => {
    const e = [];
    required(f.name, "name", e);
    wholeNumber(f.hours, "sla_first_answer_hours", ...HOURS, e);
    wholeNumber(f.days, "sla_action_days", ...DAYS, e);
    return e;
  };
  f.body = () => ({
    name: f.name.value.trim(), description: f.description.value,
    sla_first_answer_hours: Number(f.hours.value), sla_action_days: Number(f.days.value),
    owner_ids: f.owners.tagName === "FIELDSET" ? ticked(f.owners) : [],
  });
  return f;
}

async function edit(id) {
  const { threadMetrics, webhookSettings } = await import("../lib/service-threads.js");
  const service = services.find((s) => s.id === id);
  const f = serviceFields("e", service);
  const form = apiForm({
    id: "service-form", heading: t("The service was not saved"), button: t("Save the service"),
    fields: f.fields, check: f.check,
    request: () => [`/api/services/${id}`, { method: "PATCH", json: f.body() }],
    done: async (body, status) => {
      await load();
      say(status, t("Saved “{name}”.", { name: body.name }));
      // A new SLA changes "acknowledged within SLA": show the figures again.
      document.getElementById("service-metrics")?.replaceWith(threadMetrics(body));
    },
  });
  const archive = el("div", { id: "archive" });
  const drawArchive = (current) => {
    const note = el("div", { role: "status" });
    const button = el("button", { type: "button", class: "secondary" },
      current.archived ? t("Take “{name}” out of the archive", { name: current.name }) : t("Archive “{name}”", { name: current.name }));
    button.addEventListener("click", async () => {
      const result = await fetchJson(`/api/services/${id}`, { method: "PATCH", json: { archived: !current.archived } });
      if (!result.ok) return say(note, problemText(result, t("Could not change the service.")), "alert");
      await load();
      drawArchive(result.body);
      const after = archive.querySelector("button");
      say(archive.querySelector('[role="status"]'), result.body.archived
        ? t("“{name}” is archived: it takes no new feedback threads.", { name: result.body.name })
        : t("“{name}” is active again.", { name: result.body.name }));
      after.focus();
    });
    show(archive,
      el("p", {}, current.archived
        ? t("This service is archived: it takes no new feedback threads and is left out of the lists people choose from.")
        : t("Archiving keeps the service's waves and threads but takes no new feedback threads. You can undo it.")),
      button, note);
  };
  drawArchive(service);
  openPanel(panel, t("Edit “{name}”", { name: service.name }), [form,
    el("h3", {}, t("Feedback threads")), threadMetrics(service),
    webhooks ? [el("h3", {}, t("Service-desk webhook")), webhookSettings(service)] : null,
    el("h3", {}, t("Archive")), archive],
    () => list.querySelector(`[data-manage="${id}"]`)?.focus());
}

function buildCreateForm() {
  const f = serviceFields("c", null);
  const form = apiForm({
    id: "create-form", heading: t("The service was not created"), button: t("Create the service"),
    fields: f.fields, check: f.check,
    request: () => ["/api/services", { method: "POST", json: f.body() }],
    done: async (body, status) => {
      form.reset();
      say(status, body.owners.length
        ? t("Created “{name}”, owned by {owners}.", { name: body.name, owners: body.owners.map((o) => o.display_name).join(", ") })
        : t("Created “{name}”.", { name: body.name }));
      await load();
    },
  });
  show(createBox, form);
}

buildCreateForm();
await load();
