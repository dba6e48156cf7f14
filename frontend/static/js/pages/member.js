// Loaded on every page of a signed-in member (base.html): fetch the tokens of open waves
// and the rest of this month's thread tokens now, long before (and independently of)
// answering or writing. The survey page and the page for opening a thread fetch them too.
import { ensureThreadTokens, ensureTokens } from "../lib/tokens.js";
import { logAlarm } from "../lib/transparency.js";

/** The log's warning, once, above the home page's cards (`status` is one of its token lines). */
function alarm(status, error) {
  if (!document.getElementById("log-alarm")) (status.closest("ul.cards") || status).before(logAlarm(error));
}

const waveStatus = document.getElementById("token-status");
ensureTokens().then(({ waves, tokens, error }) => {
  if (!waveStatus) return;
  if (error) {
    waveStatus.textContent = "";
    return;
  }
  const ready = [...tokens.values()].filter((t) => t.state === "ready").length;
  const failure = [...tokens.values()].find((t) => t.state === "log-failure");
  if (failure) alarm(waveStatus, failure.error);
  waveStatus.textContent = waves.length === 0
    ? "No survey is open for you right now."
    : `${waves.length} open survey${waves.length === 1 ? "" : "s"}; this browser holds ${ready} unused token${ready === 1 ? "" : "s"}.`;
});

// Thread tokens only where signing in lands (the home page shows their count).
const threadStatus = document.getElementById("thread-token-status");
if (threadStatus) {
  ensureThreadTokens().then((result) => {
    if (result.logFailure) alarm(threadStatus, result.logFailure);
    if (!result.error) {
      threadStatus.textContent = `This browser holds ${result.held} thread token${result.held === 1 ? "" : "s"} (${result.allowance.per_month} a month).`;
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
        status.textContent = problemText(result, "Could not read your mail settings.");
        return;
      }
      reminders.checked = result.body.reminders;
      reminders.disabled = false;
      status.textContent = result.body.delivery === "off" ? "(This Candor sends no e-mail at the moment.)" : "";
    };
    show(await fetchJson("/api/me/mail"));
    reminders.addEventListener("change", async () => {
      const wanted = reminders.checked;
      reminders.disabled = true;
      const result = await fetchJson("/api/me/mail", { method: "PUT", json: { reminders: wanted } });
      reminders.disabled = false;
      if (!result.ok) {
        reminders.checked = !wanted;
        status.textContent = problemText(result, "Could not save your mail settings.");
        return;
      }
      show(result);
      if (result.body.delivery !== "off") status.textContent = wanted ? "Reminders on." : "Reminders off.";
    });
  });
}
