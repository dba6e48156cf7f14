// Receipts kept in this browser, checked against what the server stored (anonymously).
import { el, fetchJson, show } from "../lib/base.js";
import * as store from "../lib/store.js";
import { formatDate, t } from "../lib/i18n.js";

const list = document.getElementById("receipts");
const form = document.getElementById("check-form");
const manual = document.getElementById("check-result");

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  }
  return value;
}

function same(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

async function check(campaignId, receipt, kept) {
  const result = await fetchJson(`/anon/campaigns/${encodeURIComponent(campaignId)}/receipts/${encodeURIComponent(receipt)}`, { credentials: "omit" });
  if (result.networkError) return el("p", { class: "alert", role: "alert" }, t("Could not reach the server. Try again later."));
  if (result.status === 404) return el("p", { class: "alert", role: "alert" }, t("The server has no answer under this receipt."));
  if (!result.ok) return el("p", { class: "alert", role: "alert" }, (result.body && result.body.detail) || t("The check failed (HTTP {status}).", { status: result.status }));
  const stored = result.body;
  if (!kept) {
    return el("div", { class: "success", role: "status" },
      el("p", {}, t("The server stored this answer under this receipt, in this wave (it keeps no date).")),
      el("pre", { class: "mono" }, JSON.stringify(stored.answers, null, 2)));
  }
  return same(stored.answers, kept.answers)
    ? el("p", { class: "success", role: "status" }, t("Matches: the server stored exactly what you sent."))
    : el("p", { class: "alert", role: "alert" }, t("Does NOT match: the server's copy differs from what this browser sent. Tell the survey's manager."));
}

let receipts = [];
try {
  receipts = await store.receipts.all();
} catch {
  receipts = [];
}
if (receipts.length === 0) {
  show(list, el("p", {}, t("This browser keeps no receipts yet.")));
} else {
  // The day is this browser's own note (receipts kept before the server stopped naming
  // one carry the server's date under submittedOn); the server keeps none.
  const sentOn = (kept) => kept.sentOn || kept.submittedOn || "";
  receipts.sort((a, b) => (sentOn(a) < sentOn(b) ? 1 : -1));
  show(list, el("ul", { class: "cards" }, receipts.map((kept) => {
    const outcome = el("div", { "aria-live": "polite" });
    return el("li", { class: "card receipt-card", "data-receipt": kept.receipt },
      el("h2", {}, kept.title || t("Survey answer")),
      sentOn(kept) ? el("p", {}, t("Sent from this browser on "), formatDate(sentOn(kept))) : null,
      el("p", {}, t("Receipt: "), el("code", { class: "receipt" }, kept.receipt)),
      el("p", { class: "muted" }, t("Wave id: "), el("code", {}, kept.campaignId)),
      el("button", { type: "button", class: "secondary", onclick: async () => show(outcome, await check(kept.campaignId, kept.receipt, kept)) }, t("Check against the server")),
      outcome);
  })));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const wave = form.elements.wave.value.trim();
  const receipt = form.elements.receipt.value.trim();
  if (!wave || !receipt) {
    show(manual, el("p", { class: "alert", role: "alert" }, t("Enter both the wave id and the receipt.")));
    return;
  }
  const kept = receipts.find((r) => r.receipt === receipt && r.campaignId === wave);
  show(manual, await check(wave, receipt, kept));
});
