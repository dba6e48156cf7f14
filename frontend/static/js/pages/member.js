// Loaded on every page of a signed-in member (base.html): fetch the tokens of open waves
// and the rest of this month's thread tokens now, long before (and independently of)
// answering or writing. The survey page and the page for opening a thread fetch them too.
// The token client (blind RSA, the key log's proofs: most of the site's JavaScript) comes
// with import(), once the page's own modules run: it works in the background and never
// holds up the page, and the page's static module graph stays light (issue 19).
import { formatNumber, t } from "../lib/i18n.js";

const client = import("../lib/tokens.js");

/** The log's warning, once, above the home page's cards (`status` is one of its token lines). */
async function alarm(status, error) {
  const { logAlarm } = await import("../lib/transparency.js"); // already loaded by the token client
  if (!document.getElementById("log-alarm")) (status.closest("ul.cards") || status).before(logAlarm(error));
}

const waveStatus = document.getElementById("token-status");
client.then(({ ensureTokens }) => ensureTokens()).then(({ waves, tokens, error }) => {
  if (!waveStatus) return;
  if (error) {
    waveStatus.textContent = "";
    return;
  }
  const ready = [...tokens.values()].filter((t) => t.state === "ready").length;
  const failure = [...tokens.values()].find((t) => t.state === "log-failure");
  if (failure) alarm(waveStatus, failure.error);
  waveStatus.textContent = waves.length === 0
    ? t("No survey is open for you right now.")
    : `${waves.length === 1 ? t("{count} open survey;", { count: 1 }) : t("{count} open surveys;", { count: formatNumber(waves.length) })} ${
      ready === 1 ? t("this browser holds {count} unused token.", { count: 1 }) : t("this browser holds {count} unused tokens.", { count: formatNumber(ready) })}`;
});

// Thread tokens only where signing in lands (the home page shows their count).
const threadStatus = document.getElementById("thread-token-status");
if (threadStatus) {
  client.then(({ ensureThreadTokens }) => ensureThreadTokens()).then((result) => {
    if (result.logFailure) alarm(threadStatus, result.logFailure);
    if (!result.error) {
      const values = { count: formatNumber(result.held), month: formatNumber(result.allowance.per_month) };
      threadStatus.textContent = result.held === 1
        ? t("This browser holds {count} thread token ({month} a month).", values)
        : t("This browser holds {count} thread tokens ({month} a month).", values);
    }
  }).catch(() => {});
}

// Reminder e-mails on or off (the home page only; invitations to new surveys always come).
const reminders = document.getElementById("mail-reminders");
if (reminders) {
  import("../lib/base.js").then(async ({ fetchJson, problemText }) => {
    const status = document.getElementById("mail-reminders-status");
    const show = (result) => {
      if (!result.ok) {
        status.textContent = problemText(result, t("Could not read your mail settings."));
        return;
      }
      reminders.checked = result.body.reminders;
      reminders.disabled = false;
      status.textContent = result.body.delivery === "off" ? t("(This Candor sends no e-mail at the moment.)") : "";
    };
    show(await fetchJson("/api/me/mail"));
    reminders.addEventListener("change", async () => {
      const wanted = reminders.checked;
      reminders.disabled = true;
      const result = await fetchJson("/api/me/mail", { method: "PUT", json: { reminders: wanted } });
      reminders.disabled = false;
      if (!result.ok) {
        reminders.checked = !wanted;
        status.textContent = problemText(result, t("Could not save your mail settings."));
        return;
      }
      show(result);
      if (result.body.delivery !== "off") status.textContent = wanted ? t("Reminders on.") : t("Reminders off.");
    });
  });
}
