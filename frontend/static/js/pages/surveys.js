import { el, problemText, show } from "../lib/base.js";
import { ensureTokens } from "../lib/tokens.js";
import { describeHead, logAlarm } from "../lib/transparency.js";
import { logState } from "../lib/store.js";

const container = document.getElementById("surveys");

const STATES = {
  ready: "Ready: your token is in this browser.",
  spent: "Answered from this browser.",
  "issued-elsewhere": "Your token for this wave went to another browser or device; answer from there.",
  "key-mismatch": "Stopped: the wave's signing key is not the one it published. Do not answer; tell the survey's manager.",
  "log-failure": "Stopped: the public key log does not confirm this wave's key. Do not answer; see the warning above.",
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
  const failure = [...tokens.values()].find((t) => t.state === "log-failure");
  show(container, failure ? logAlarm(failure.error) : null, el("ul", { class: "cards" }, waves.map((wave) => {
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

// What this browser last verified, for the member to hold against the values the works
// council's monitor publishes (the same tree_size must come with the same root_hash).
const kept = await logState.get().catch(() => null);
if (kept) {
  container.append(el("p", { class: "muted", id: "log-head" }, "This browser last checked the public key log at ",
    el("code", {}, describeHead(kept.head)), ". ", el("a", { href: "/privacy#key-log-check" }, "How to compare it with the published values"), "."));
}
