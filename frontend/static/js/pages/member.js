// Loaded on every page of a signed-in member (base.html): fetch the tokens of open waves
// and the rest of this month's thread tokens now, long before (and independently of)
// answering or writing. The survey page and the page for opening a thread fetch them too.
import { ensureThreadTokens, ensureTokens } from "../lib/tokens.js";

const waveStatus = document.getElementById("token-status");
ensureTokens().then(({ waves, tokens, error }) => {
  if (!waveStatus) return;
  if (error) {
    waveStatus.textContent = "";
    return;
  }
  const ready = [...tokens.values()].filter((t) => t.state === "ready").length;
  waveStatus.textContent = waves.length === 0
    ? "No survey is open for you right now."
    : `${waves.length} open survey${waves.length === 1 ? "" : "s"}; this browser holds ${ready} unused token${ready === 1 ? "" : "s"}.`;
});

// Thread tokens only where signing in lands (the home page shows their count).
const threadStatus = document.getElementById("thread-token-status");
if (threadStatus) {
  ensureThreadTokens().then((result) => {
    if (!result.error) {
      threadStatus.textContent = `This browser holds ${result.held} thread token${result.held === 1 ? "" : "s"} (${result.allowance.per_month} a month).`;
    }
  }).catch(() => {});
}
