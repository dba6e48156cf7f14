import { el, groupHex, show } from "../lib/base.js";
import { waveTokens } from "../lib/store.js";
import { formatNumber, t } from "../lib/i18n.js";

const container = document.getElementById("wave-keys");
let result;
try {
  result = await fetch("/api/campaigns", { credentials: "same-origin", headers: { accept: "application/json" } });
} catch {
  result = null;
}
if (result && result.status === 401) {
  show(container, el("p", {}, t("Sign in to see the waves open to you and their key ids. "),
    t("Anyone can fetch a wave's key at "), el("code", {}, "/api/campaigns/<wave id>/token-key"), "."));
} else {
  const waves = result && result.ok ? (await result.json()).filter((w) => w.status === "open" && w.token_key_id) : [];
  if (waves.length === 0) {
    show(container, el("p", {}, t("No waves yet: no survey wave is open.")));
  } else {
    const rows = [];
    for (const wave of waves) {
      let held = "";
      try {
        const token = await waveTokens.get(wave.id);
        if (token) held = token.keyId === wave.token_key_id ? t("Same as your token's") : t("DIFFERENT from your token's");
      } catch {}
      rows.push(el("tr", {},
        el("th", { scope: "row" }, wave.title),
        el("td", {}, wave.service.name),
        el("td", {}, `${formatNumber(wave.k_scores)} / ${formatNumber(wave.k_comments)}`),
        el("td", {}, el("code", {}, groupHex(wave.token_key_id))),
        el("td", {}, held || "—")));
    }
    show(container, el("div", { class: "table-wrap" }, el("table", {},
      el("caption", { class: "visually-hidden" }, t("Open waves and their token key ids")),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, t("Wave")), el("th", { scope: "col" }, t("Service")),
        el("th", { scope: "col" }, t("k scores / comments")), el("th", { scope: "col" }, t("Token key id (SHA-256)")),
        el("th", { scope: "col" }, t("Key of the token in this browser")))),
      el("tbody", {}, rows))));
  }
}
