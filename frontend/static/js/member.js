// Loaded on every page of a signed-in member: fetch the tokens of open waves now,
// long before (and independently of) answering.
import { ensureTokens } from "./tokens.js";

const status = document.getElementById("token-status");
ensureTokens().then(({ waves, tokens, error }) => {
  if (!status) return;
  if (error) {
    status.textContent = "";
    return;
  }
  const ready = [...tokens.values()].filter((t) => t.state === "ready").length;
  status.textContent = waves.length === 0
    ? "No survey is open for you right now."
    : `${waves.length} open survey${waves.length === 1 ? "" : "s"}; this browser holds ${ready} unused token${ready === 1 ? "" : "s"}.`;
});
