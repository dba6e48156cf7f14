// Loaded on every page of a signed-in member; acts on the home page, where signing in
// lands: fetch the rest of this month's thread tokens now, long before (and independently
// of) writing. The page for opening a thread fetches them too.
import { ensureThreadTokens } from "./threads-tokens.js";

const status = document.getElementById("thread-token-status");
if (status) {
  ensureThreadTokens().then((result) => {
    if (!result.error) {
      status.textContent = `This browser holds ${result.held} thread token${result.held === 1 ? "" : "s"} (${result.allowance.per_month} a month).`;
    }
  }).catch(() => {});
}
