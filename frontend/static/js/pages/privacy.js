import { el, groupHex, show } from "../lib/base.js";
import { waveTokens } from "../lib/store.js";

const container = document.getElementById("wave-keys");
let result;
try {
  result = await fetch("/api/campaigns", { credentials: "same-origin", headers: { accept: "application/json" } });
} catch {
  result = null;
}
if (result && result.status === 401) {
  show(container, el("p", {}, "Sign in to see the waves open to you and their key ids. ",
    "Anyone can fetch a wave's key at ", el("code", {}, "/api/campaigns/<wave id>/token-key"), "."));
} else {
  const waves = result && result.ok ? (await result.json()).filter((w) => w.status === "open" && w.token_key_id) : [];
  if (waves.length === 0) {
    show(container, el("p", {}, "No waves yet: no survey wave is open."));
  } else {
    const rows = [];
    for (const wave of waves) {
      let held = "";
      try {
        const token = await waveTokens.get(wave.id);
        if (token) held = token.keyId === wave.token_key_id ? "Same as your token's" : "DIFFERENT from your token's";
      } catch {}
      rows.push(el("tr", {},
        el("th", { scope: "row" }, wave.title),
        el("td", {}, wave.service.name),
        el("td", {}, `${wave.k_scores} / ${wave.k_comments}`),
        el("td", {}, el("code", {}, groupHex(wave.token_key_id))),
        el("td", {}, held || "—")));
    }
    show(container, el("div", { class: "table-wrap" }, el("table", {},
      el("caption", { class: "visually-hidden" }, "Open waves and their token key ids"),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "Wave"), el("th", { scope: "col" }, "Service"),
        el("th", { scope: "col" }, "k scores / comments"), el("th", { scope: "col" }, "Token key id (SHA-256)"),
        el("th", { scope: "col" }, "Key of the token in this browser"))),
      el("tbody", {}, rows))));
  }
}
