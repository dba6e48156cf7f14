import { el, problemText, show } from "../lib/base.js";
import { ensureTokens } from "../lib/tokens.js";

const container = document.getElementById("surveys");

const STATES = {
  ready: "Ready: your token is in this browser.",
  spent: "Answered from this browser.",
  "issued-elsewhere": "Your token for this wave went to another browser or device; answer from there.",
  "key-mismatch": "Stopped: the wave's signing key is not the one it published. Do not answer; tell the survey's manager.",
  offline: "Could not get your token (no connection). Reload the page to try again.",
  closed: "This wave no longer accepts answers.",
  unavailable: "Could not get your token yet. Reload the page to try again.",
};

const { waves, tokens, error } = await ensureTokens();
if (error) {
  show(container, el("p", { class: "alert", role: "alert" }, problemText(error, "Could not load your surveys.")));
} else if (waves.length === 0) {
  show(container, el("p", {}, "No survey is open for you right now. New waves appear here as soon as they open."));
} else {
  show(container, el("ul", { class: "cards" }, waves.map((wave) => {
    const token = tokens.get(wave.id) || { state: "unavailable" };
    return el("li", { class: "card", "data-campaign-id": wave.id },
      el("h2", {}, wave.title),
      el("p", { class: "muted" }, `${wave.service.name} · open until ${wave.closes_on}`),
      wave.description ? el("p", {}, wave.description) : null,
      el("p", {}, STATES[token.state] || STATES.unavailable),
      token.state === "ready"
        ? el("p", {}, el("a", { class: "button", href: `/surveys/${wave.id}` }, `Answer “${wave.title}”`))
        : token.state === "spent" ? el("p", {}, el("a", { href: "/receipts" }, "See your receipt")) : null,
    );
  })));
}
