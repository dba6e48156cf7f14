// The owners' (and moderators') inbox: threads of their services, search, and per-service metrics.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { deliveryLog, threadLink } from "../lib/threads-render.js";
import { formatNumber, t } from "../lib/i18n.js";

const inbox = document.getElementById("inbox");
const metrics = document.getElementById("metrics");

async function load(q) {
  const got = await fetchJson(`/api/threads?q=${encodeURIComponent(q)}`);
  if (!got.ok) return show(inbox, el("p", { class: "alert", role: "alert" }, problemText(got)));
  if (!got.body.length) return show(inbox, el("p", { class: "muted" }, q ? t("No thread matches your search.") : t("No threads yet.")));
  show(inbox, el("ul", { class: "cards" }, got.body.map((thread) => threadLink(`/threads/staff/${thread.id}`, thread))));
}

async function ownedServices() {
  const me = await fetchJson("/api/auth/me");
  const services = await fetchJson("/api/services");
  if (!me.ok || !services.ok) return [];
  return services.body.filter((s) => s.owners.some((o) => o.id === me.body.account.id));
}

async function webhookSection(service) {
  const got = await fetchJson(`/api/services/${service.id}/webhook`);
  if (!got.ok) return el("p", { class: "alert" }, problemText(got));
  const prefix = `hook-${service.id}`;
  const url = el("input", { id: `${prefix}-url`, type: "url", value: got.body.url || "", required: true, spellcheck: "false" });
  const secret = el("input", { id: `${prefix}-secret`, type: "password", minlength: 16, autocomplete: "new-password", required: true });
  const active = el("input", { id: `${prefix}-active`, type: "checkbox", checked: got.body.url ? got.body.active : true });
  const status = el("div", { "aria-live": "polite" });
  const log = deliveryLog(`/api/services/${service.id}/webhook`);
  log.show(got.body.deliveries);
  const form = el("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const saved = await fetchJson(`/api/services/${service.id}/webhook`, { method: "PUT",
      json: { url: url.value.trim(), secret: secret.value, active: active.checked } });
    secret.value = "";
    show(status, el("p", { class: saved.ok ? "success" : "alert", role: saved.ok ? "status" : "alert" },
      saved.ok ? t("Saved. The secret is stored encrypted and is not shown again.") : problemText(saved)));
    if (saved.ok) log.show(saved.body.deliveries);
  } },
    el("div", { class: "field" }, el("label", { for: url.id }, t("Webhook address for {service}", { service: service.name })), url),
    el("div", { class: "field" }, el("label", { for: secret.id }, t("Shared signing secret for {service} (16 characters or more)", { service: service.name })), secret),
    el("div", { class: "field" }, el("label", { for: active.id }, active, " Active")),
    el("div", { class: "actions" }, el("button", { type: "submit" }, t("Save webhook for {service}", { service: service.name })),
      el("button", { type: "button", class: "secondary", onclick: log.refresh }, t("Refresh the delivery log of {service}", { service: service.name }))));
  return el("section", { class: "card" }, el("h3", {}, service.name), form, status, log.node);
}

async function loadWebhooks(owned) {
  const container = document.getElementById("webhooks");
  if (!container) return;
  show(container, ...(await Promise.all(owned.map(webhookSection))));
}

async function loadMetrics() {
  if (!metrics) return;
  const owned = await ownedServices();
  loadWebhooks(owned);
  const rows = [];
  for (const s of owned) {
    const m = await fetchJson(`/api/services/${s.id}/thread-metrics`);
    if (!m.ok) continue;
    const pct = (n) => (m.body.opened ? `${formatNumber(Math.round((100 * n) / m.body.opened))} %` : "—");
    rows.push(el("tr", {}, el("th", { scope: "row" }, s.name), el("td", { class: "num" }, formatNumber(m.body.opened)),
      el("td", { class: "num" }, pct(m.body.acknowledged_within_sla)), el("td", { class: "num" }, t("{hours} h", { hours: formatNumber(s.sla_first_answer_hours) })),
      el("td", { class: "num" }, m.body.median_hours_to_first_answer === null ? "—" : t("{hours} h", { hours: formatNumber(m.body.median_hours_to_first_answer) })),
      el("td", { class: "num" }, pct(m.body.resolved))));
  }
  if (!rows.length) return show(metrics, el("p", { class: "muted" }, t("No service names you as an owner.")));
  show(metrics, el("div", { class: "table-wrap" }, el("table", {},
    el("caption", {}, t("Threads per service (times count from the start of the day a thread was opened: anonymous threads carry a date only)")),
    el("thead", {}, el("tr", {}, [t("Service"), t("Threads opened"), t("Acknowledged within SLA"), "SLA", t("Median time to first answer"), t("Resolved")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows))));
}

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  load(document.getElementById("search-q").value.trim());
});
load("");
loadMetrics();
