// Sending the survey's answer anonymously, loaded with the form (issue 19: light pages): after a
// short random delay, with the wave's token, without cookies (credentials: "omit"), and
// keeping the receipt in this browser.
import { el, show, today } from "./base.js";
import { markErrors } from "./survey-check.js";
import { drafts, receipts, waveTokens } from "./store.js";
import { locale, t } from "./i18n.js";

const root = document.getElementById("survey");

// Random delay before sending, so that pressing "Submit" and the server's receipt of the
// answer are not the same moment.
const DELAY_MS = [1000, 4000];

function say(status, kind, ...text) {
  show(status, el("div", { class: kind, role: kind === "alert" ? "alert" : null, tabindex: "-1" }, el("p", {}, ...text)));
  status.firstChild.focus();
}

/** Send the answer; resolves true once the server has received it (the draft is then gone). */
export async function send(wave, instrument, token, answers, ui) {
  const [{ KeyMismatchError, publishedKey, waveKeyUrl }, { formatAuthorization }] =
    await Promise.all([import("./tokens.js"), import("./privacypass.js")]);
  const { status } = ui;
  // Key consistency: the key the token was issued under must still be the one the wave publishes.
  try {
    const key = await publishedKey(waveKeyUrl(wave.id), token.keyId);
    if (!key.keyId) {
      if (key.result.networkError) return say(status, "alert", t("Could not reach the server. Your answers are still here and your token is unused; try again."));
      return say(status, "alert", t("This survey is not accepting answers now (its key is not published). Your token is unused."));
    }
  } catch (err) {
    if (err instanceof KeyMismatchError) {
      await waveTokens.put({ ...token, state: "key-mismatch" });
      return say(status, "alert", t("Not sent: the survey's published key id differs from the one your token was issued under. This could single you out, so your browser refuses to answer. Tell the survey's manager."));
    }
    throw err;
  }
  const delay = DELAY_MS[0] + Math.floor(Math.random() * (DELAY_MS[1] - DELAY_MS[0]));
  show(status, el("p", { class: "notice" }, t("Sending in about {seconds} seconds — a random wait, so that the moment you pressed Submit is not the moment the server sees.", { seconds: Math.ceil(delay / 1000) })));
  await new Promise((resolve) => setTimeout(resolve, delay));
  let response;
  try {
    response = await fetch(`/anon/campaigns/${wave.id}/responses`, {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      headers: { "content-type": "application/json", authorization: formatAuthorization(token.token), accept: "application/json",
        "accept-language": locale },
      body: JSON.stringify(answers),
    });
  } catch {
    return say(status, "alert", t("Could not reach the server. Your answers are still here and your token was not used; check your connection and press Submit again."));
  }
  let body = null;
  try {
    body = await response.json();
  } catch {}
  if (response.status === 201) {
    const receipt = { receipt: body.receipt, campaignId: wave.id, responseId: body.response_id, sentOn: today(), title: wave.title, answers };
    await receipts.put(receipt);
    await waveTokens.put({ campaignId: wave.id, state: "spent", keyId: token.keyId, receipt: body.receipt, title: wave.title });
    await drafts.remove(wave.id).catch(() => {});
    showReceipt(wave, receipt);
    return true;
  }
  const type = (body && body.type) || "";
  if (response.status === 409 && type.endsWith("/token-spent")) {
    await waveTokens.put({ campaignId: wave.id, state: "spent", keyId: token.keyId, title: wave.title });
    await drafts.remove(wave.id).catch(() => {});
    return say(status, "alert", t("Not sent: this survey was already answered with your token. Each person answers a wave once; if you did not answer it, tell the survey's manager."));
  }
  if (response.status === 409 && type.endsWith("/campaign-closed")) {
    return say(status, "alert", t("Not sent: this survey has closed and no longer accepts answers."));
  }
  if (response.status === 422 && body && Array.isArray(body.errors)) {
    ui.goToField(body.errors[0].field);
    markErrors(ui.form, body.errors, ui.summary, ui.describe);
    return show(status, el("p", { class: "muted" }, t("Nothing was sent and your token is unused; correct the answers above and submit again.")));
  }
  if (response.status === 401) {
    return say(status, "alert", t("Not sent: the server did not accept this browser's token for the survey. Your answers are still here."));
  }
  return say(status, "alert", t("Not sent (HTTP {status}). Your answers are still here; try again in a moment.", { status: response.status }));
}

function showReceipt(wave, receipt) {
  const panel = el("div", { class: "success", id: "receipt", tabindex: "-1", role: "status" },
    el("h2", {}, t("Thank you — your answer was received")),
    el("p", {}, t("Your receipt:"), " ", el("code", { class: "receipt", id: "receipt-code" }, receipt.receipt)),
    el("p", {}, t("This browser keeps the receipt, the day you sent it and a copy of your answers, so you can check what the server stored. The server keeps no date with your answers.")),
    el("p", {}, el("a", { href: "/receipts" }, t("Check your receipt")), " · ", el("a", { href: "/surveys" }, t("Back to open surveys"))));
  show(root, el("h1", { id: "survey-title" }, wave.title), panel);
  panel.focus();
}
