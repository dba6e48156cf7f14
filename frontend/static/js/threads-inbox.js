// The owners' (and moderators') inbox: threads of their services, search, and per-service metrics.
import { el, fetchJson, problemText, show } from "./lib.js";
import { threadLink } from "./threads-render.js";

const inbox = document.getElementById("inbox");
const metrics = document.getElementById("metrics");

async function load(q) {
  const got = await fetchJson(`/api/threads?q=${encodeURIComponent(q)}`);
  if (!got.ok) return show(inbox, el("p", { class: "alert", role: "alert" }, problemText(got)));
  if (!got.body.length) return show(inbox, el("p", { class: "muted" }, q ? "No thread matches your search." : "No threads yet."));
  show(inbox, el("ul", { class: "cards" }, got.body.map((t) => threadLink(`/threads/staff/${t.id}`, t))));
}

async function loadMetrics() {
  if (!metrics) return;
  const me = await fetchJson("/api/auth/me");
  const services = await fetchJson("/api/services");
  if (!me.ok || !services.ok) return;
  const owned = services.body.filter((s) => s.owners.some((o) => o.id === me.body.account.id));
  const rows = [];
  for (const s of owned) {
    const m = await fetchJson(`/api/services/${s.id}/thread-metrics`);
    if (!m.ok) continue;
    const pct = (n) => (m.body.opened ? `${Math.round((100 * n) / m.body.opened)} %` : "—");
    rows.push(el("tr", {}, el("th", { scope: "row" }, s.name), el("td", { class: "num" }, m.body.opened),
      el("td", { class: "num" }, pct(m.body.acknowledged_within_sla)), el("td", { class: "num" }, `${s.sla_first_answer_hours} h`),
      el("td", { class: "num" }, m.body.median_hours_to_first_answer === null ? "—" : `${m.body.median_hours_to_first_answer} h`),
      el("td", { class: "num" }, pct(m.body.resolved))));
  }
  if (!rows.length) return show(metrics, el("p", { class: "muted" }, "No service names you as an owner."));
  show(metrics, el("div", { class: "table-wrap" }, el("table", {},
    el("caption", {}, "Threads per service (times count from the start of the day a thread was opened: anonymous threads carry a date only)"),
    el("thead", {}, el("tr", {}, ["Service", "Threads opened", "Acknowledged within SLA", "SLA", "Median time to first answer", "Resolved"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows))));
}

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  load(document.getElementById("search-q").value.trim());
});
load("");
loadMetrics();
