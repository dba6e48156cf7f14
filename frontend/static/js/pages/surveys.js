// The member's open waves and, for each, what this browser holds for it. The token client
// (blind RSA, the key log: most of the site's JavaScript) comes with import(), as on every
// member page (member.js loads the same module): the page's static module graph stays light
// (issue 19).
import { el, problemText, show } from "../lib/base.js";
import { logState } from "../lib/store.js";
import { formatDate, t } from "../lib/i18n.js";

const container = document.getElementById("surveys");

const STATES = {
  ready: t("Ready: your token is in this browser."),
  spent: t("Answered from this browser."),
  "issued-elsewhere": t("Your token for this wave went to another browser or device; answer from there."),
  "key-mismatch": t("Stopped: the wave's signing key is not the one it published. Do not answer; tell the survey's manager."),
  "log-failure": t("Stopped: the public key log does not confirm this wave's key. Do not answer; see the warning above."),
  offline: t("Could not get your token (no connection). Reload the page to try again."),
  closed: t("This wave no longer accepts answers."),
  unavailable: t("Could not get your token yet. Reload the page to try again."),
};

const { ensureTokens } = await import("../lib/tokens.js");
const { waves, tokens, error } = await ensureTokens();
if (error) {
  show(container, el("p", { class: "alert", role: "alert" }, problemText(error, t("Could not load your surveys."))));
} else if (waves.length === 0) {
  show(container, el("p", {}, t("No survey is open for you right now. New waves appear here as soon as they open.")));
} else {
  const failure = [...tokens.values()].find((t) => t.state === "log-failure");
  const { logAlarm } = failure ? await import("../lib/transparency.js") : {};
  show(container, failure ? logAlarm(failure.error) : null, el("ul", { class: "cards" }, waves.map((wave) => {
    const token = tokens.get(wave.id) || { state: "unavailable" };
    return el("li", { class: "card", "data-campaign-id": wave.id },
      el("h2", {}, wave.title),
      el("p", { class: "muted" }, t("{service} · open until {day}", { service: wave.service.name, day: formatDate(wave.closes_on) })),
      wave.description ? el("p", {}, wave.description) : null,
      el("p", {}, STATES[token.state] || STATES.unavailable),
      token.state === "ready"
        ? el("p", {}, el("a", { class: "button", href: `/surveys/${wave.id}` }, t("Answer “{title}”", { title: wave.title })))
        : token.state === "spent" ? el("p", {}, el("a", { href: "/receipts" }, t("See your receipt"))) : null,
    );
  })));
}

// What this browser last verified, for the member to hold against the values the works
// council's monitor publishes (the same tree_size must come with the same root_hash).
const kept = await logState.get().catch(() => null);
if (kept) {
  const { describeHead } = await import("../lib/transparency.js");
  container.append(el("p", { class: "muted", id: "log-head" }, t("This browser last checked the public key log at "),
    el("code", {}, describeHead(kept.head)), ". ", el("a", { href: "/privacy#key-log-check" }, t("How to compare it with the published values")), "."));
}
