// The survey form: renders any instrument (expectation-perception, zone-of-tolerance,
// perception-only; allocation or rating importance; satisfaction; free text) one part at
// a time, and sends the answer anonymously: after a short random delay, with the wave's
// token, without cookies (credentials: "omit").
//
// Languages: the respondent picks the language of the questions among the instrument's
// own. Every offered language is fetched when the page loads, whichever is picked, so the
// (signed-in) instrument requests say nothing about the choice; switching re-renders the
// form with the answers kept. The answer never says which language it was given in.
//
// Save and resume: answers in progress are kept in this browser only (lib/store.js
// `drafts`), restored when the page is opened again, and deleted once the answer is
// received (and on sign-out, lib/base.js). Nothing of a draft is ever sent.

// Light pages (issue 19): this module only loads the wave, its instrument and the token.
// The form (lib/survey-form.js, with lib/survey-send.js) comes with import() once the wave is
// known to be open, and the token client (blind RSA, the key log) only when this browser has
// no token for the wave yet, or when the answer is sent (member.js has loaded it by then).
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { drafts, waveTokens } from "../lib/store.js";
import { t } from "../lib/i18n.js";

const root = document.getElementById("survey");
const campaignId = root.dataset.campaignId;

function fail(message) {
  show(root, el("h1", {}, t("Survey")), el("div", { class: "alert", role: "alert" }, el("p", {}, message)),
    el("p", {}, el("a", { href: "/surveys" }, t("Back to open surveys"))));
}

/** The offered language to start in: the draft's, else the page's, else the instrument's own. */
function firstLanguage(languages, primary, draft) {
  if (draft && languages.includes(draft.lang)) return draft.lang;
  const page = (document.documentElement.lang || "").toLowerCase();
  return languages.find((l) => l.toLowerCase() === page)
    || languages.find((l) => l.toLowerCase() === page.split("-")[0])
    || primary;
}

/** The wave's instrument in each of its languages: {primary, languages, byLanguage}. */
async function loadInstrument(wave) {
  const url = `/api/instruments/${encodeURIComponent(wave.instrument_id)}?hash=${encodeURIComponent(wave.instrument_hash)}`;
  const whole = await fetchJson(url);
  if (!whole.ok) return { error: whole };
  const primary = whole.body.instrument.language;
  const languages = whole.body.languages && whole.body.languages.length ? whole.body.languages : [primary];
  if (languages.length === 1) return { primary, languages, byLanguage: { [primary]: whole.body.instrument } };
  const results = await Promise.all(languages.map((lang) => fetchJson(`${url}&lang=${encodeURIComponent(lang)}`)));
  const failed = results.find((r) => !r.ok);
  if (failed) return { error: failed };
  return { primary, languages, byLanguage: Object.fromEntries(languages.map((lang, i) => [lang, results[i].body.instrument])) };
}

// --- the page -----------------------------------------------------------------------------

async function main() {
  const waveResult = await fetchJson(`/api/campaigns/${campaignId}`);
  if (!waveResult.ok) return fail(waveResult.status === 404 ? t("This survey does not exist or is not open to you.") : problemText(waveResult, t("Could not load the survey.")));
  const wave = waveResult.body;
  if (wave.status !== "open") return fail(t("This survey is not open for answers."));
  const form = import("../lib/survey-form.js"); // while the questions and the token are fetched
  form.catch(() => {}); // a failure to load it shows where it is awaited
  const loaded = await loadInstrument(wave);
  if (loaded.error) return fail(problemText(loaded.error, t("Could not load the questions.")));

  let token = await waveTokens.get(campaignId);
  if (!token) {
    const { ensureTokens } = await import("../lib/tokens.js");
    const { tokens } = await ensureTokens();
    token = tokens.get(campaignId) || (await waveTokens.get(campaignId));
  }
  if (token && token.state === "log-failure") {
    const { logAlarm } = await import("../lib/transparency.js");
    return show(root, el("h1", {}, wave.title), logAlarm(token.error), el("p", {}, el("a", { href: "/surveys" }, t("Back to open surveys"))));
  }
  if (!token || token.state !== "ready") {
    const why = {
      spent: t("You have already answered this survey from this browser. Your receipt is on the Receipts page."),
      "issued-elsewhere": t("Your token for this survey was given to another browser or device; answer from there."),
      "key-mismatch": t("The survey's signing key is not the one it published, so this browser will not use it. Tell the survey's manager."),
    };
    return fail(why[token && token.state] || t("This browser has no token for this survey yet. Reload the page to try again."));
  }

  const draft = await drafts.get(campaignId).catch(() => null);
  const start = firstLanguage(loaded.languages, loaded.primary, draft);
  const { renderSurvey } = await form;
  renderSurvey(wave, token, loaded, start, draft ? draft.values : {}, draft ? draft.part : 0);
}

main().catch((err) => {
  console.error(err);
  fail(t("The survey could not be shown. Reload the page to try again."));
});
