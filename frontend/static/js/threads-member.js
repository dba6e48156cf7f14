// Loaded on every page of a signed-in member: fetch this month's thread tokens now,
// long before (and independently of) writing.
import { ensureThreadTokens } from "./threads-tokens.js";

const status = document.getElementById("thread-token-status");
ensureThreadTokens().then((result) => {
  if (status && !result.error) {
    status.textContent = `This browser holds ${result.held} thread token${result.held === 1 ? "" : "s"} (${result.allowance.per_month} a month).`;
  }
  document.dispatchEvent(new CustomEvent("candor:thread-tokens", { detail: result }));
}).catch(() => {});
