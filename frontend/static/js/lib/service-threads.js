// A service's feedback threads in the catalogue's editing panel: its thread figures (admins
// and managers) and its service-desk webhook (admins). Same wording, definitions and
// behaviour as the owners' inbox (threads-inbox.js); the JSON API decides who may do what.
import { el, fetchJson, problemText, show } from "./base.js";
import { deliveryLog } from "./threads-render.js";
import { checkboxes, ticked } from "./checkboxes.js";
import { apiForm, field, input, say } from "./forms.js";
import { formatNumber, t } from "./i18n.js";

const SECRET = [16, 200];

/** The inbox's figures for one service: threads opened, % acknowledged within the SLA, median time to first answer, % resolved. */
export function threadMetrics(service) {
  const box = el("div", { id: "service-metrics", "aria-busy": "true" }, el("p", { class: "muted" }, t("Loading the thread figures…")));
  (async () => {
    const m = await fetchJson(`/api/services/${service.id}/thread-metrics`);
    box.removeAttribute("aria-busy");
    if (!m.ok) return show(box, el("p", { class: "alert", role: "alert" }, problemText(m, t("Could not load the thread figures."))));
    const pct = (n) => (m.body.opened ? `${formatNumber(Math.round((100 * n) / m.body.opened))} %` : "—");
    show(box, el("div", { class: "table-wrap" }, el("table", {},
      el("caption", {}, t("Threads about “{service}” (times count from the start of the day a thread was opened: anonymous threads carry a date only)", { service: service.name })),
      el("thead", {}, el("tr", {}, [t("Threads opened"), t("Acknowledged within SLA"), "SLA", t("Median time to first answer"), t("Resolved")]
        .map((h) => el("th", { scope: "col", class: "num" }, h)))),
      el("tbody", {}, el("tr", {},
        el("td", { class: "num" }, formatNumber(m.body.opened)),
        el("td", { class: "num" }, pct(m.body.acknowledged_within_sla)),
        el("td", { class: "num" }, t("{hours} h", { hours: formatNumber(service.sla_first_answer_hours) })),
        el("td", { class: "num" }, m.body.median_hours_to_first_answer === null ? "—" : t("{hours} h", { hours: formatNumber(m.body.median_hours_to_first_answer) })),
        el("td", { class: "num" }, pct(m.body.resolved)))))));
  })();
  return box;
}

/** The service-desk webhook: address, shared secret (asked at every save, never shown), active, and the delivery log. */
export function webhookSettings(service) {
  const box = el("div", { id: "service-webhook", "aria-busy": "true" }, el("p", { class: "muted" }, t("Loading the webhook…")));
  const url = `/api/services/${service.id}/webhook`;
  (async () => {
    const got = await fetchJson(url);
    box.removeAttribute("aria-busy");
    if (!got.ok) return show(box, el("p", { class: "alert", role: "alert" }, problemText(got, t("Could not load the webhook."))));
    // Polled while a delivery is pending, until the panel is closed or shows another service.
    const log = deliveryLog(url, { id: "webhook-log" });
    const refreshed = el("div", { role: "status" });
    const refreshButton = el("button", { type: "button", class: "secondary", onclick: async () => {
      const again = await log.refresh();
      if (again) say(refreshed, again.ok ? t("Delivery log updated.") : problemText(again, t("Could not load the delivery log.")), again.ok ? "success" : "alert");
    } }, t("Refresh the delivery log"));
    const address = input("w-url", "url", { type: "url", required: true, maxlength: "2000", spellcheck: "false",
      autocomplete: "off", value: got.body.url || "" });
    const secret = input("w-secret", "secret", { type: "password", required: true, minlength: String(SECRET[0]),
      maxlength: String(SECRET[1]), autocomplete: "new-password" });
    const active = checkboxes({ id: "w-active", legend: t("Sending"), name: "active",
      options: [{ value: "yes", label: t("Active: “Send to the service desk” posts to this address"), checked: got.body.url ? got.body.active : true }] });
    const form = apiForm({
      id: "webhook-form", heading: t("The webhook was not saved"), button: t("Save the webhook"),
      fields: [
        field(address, t("Webhook address"), t("Where threads are posted, starting with https:// (or http://).")),
        field(secret, t("Shared signing secret"), t("{min} to {max} characters. Enter it at every save: it is stored encrypted and never shown again.", { min: SECRET[0], max: SECRET[1] })),
        active],
      check: () => {
        const e = [];
        if (!/^https?:\/\/\S+$/.test(address.value.trim())) e.push({ field: "url", reason: t("Enter an address starting with https:// or http://.") });
        if (secret.value.length < SECRET[0] || secret.value.length > SECRET[1]) {
          e.push({ field: "secret", reason: t("Use {min} to {max} characters.", { min: SECRET[0], max: SECRET[1] }) });
        }
        return e;
      },
      request: () => [url, { method: "PUT", json: { url: address.value.trim(), secret: secret.value, active: ticked(active).length > 0 } }],
      done: (body, status) => {
        secret.value = "";
        say(status, body.active
          ? t("Saved. The secret is stored encrypted and is not shown again.")
          : t("Saved, inactive: nothing is sent until it is made active again. The secret is stored encrypted and is not shown again."));
        log.show(body.deliveries);
      },
    });
    show(box,
      el("p", {}, t("“Send to the service desk” on a thread posts its title, visible text and link — nothing else — as JSON to the service desk, "),
        t("signed with HMAC-SHA256 of the body under the shared secret (header "), el("code", {}, `${got.body.signature_header}: sha256=…`),
        t("), retried with growing waits when it fails.")),
      form, log.node, el("div", { class: "actions" }, refreshButton), refreshed);
    log.show(got.body.deliveries);
  })();
  return box;
}
