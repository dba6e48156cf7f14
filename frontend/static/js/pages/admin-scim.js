// Directory provisioning (admins): the SCIM bearer tokens. A new token is shown once, in
// this page only (the server keeps its SHA-256); the list shows each token's name and the
// days it was created, last used and revoked, and revokes a token behind a confirmation.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { apiForm, confirmed, field, input, required, say } from "../lib/forms.js";
import { formatDate, t } from "../lib/i18n.js";

const list = document.getElementById("scim-tokens");
const createBox = document.getElementById("scim-create");

async function load() {
  const result = await fetchJson("/api/admin/scim-tokens");
  list.removeAttribute("aria-busy");
  if (!result.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(result, t("Could not load the tokens."))));
  if (!result.body.length) return show(list, el("p", {}, t("No tokens yet: the directory cannot provision until you create one.")));
  show(list, el("div", { class: "table-wrap" }, el("table", { id: "scim-token-table" },
    el("caption", { class: "visually-hidden" }, t("SCIM tokens")),
    el("thead", {}, el("tr", {}, [t("Name"), t("Created"), t("Last used"), t("Status"), t("Actions")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, result.body.map((token) => el("tr", { "data-token-id": token.id },
      el("th", { scope: "row" }, token.name),
      el("td", {}, formatDate(token.created_on)),
      el("td", {}, token.last_used_on ? formatDate(token.last_used_on) : t("never")),
      el("td", {}, token.revoked_on ? t("revoked {day}", { day: formatDate(token.revoked_on) }) : t("active")),
      el("td", {}, token.revoked_on ? "—" : confirmed({
        label: t("Revoke “{name}”…", { name: token.name }),
        text: t("Revoke the token “{name}”? The directory using it can no longer provision, at once.", { name: token.name }),
        confirmLabel: t("Yes, revoke “{name}”", { name: token.name }),
        action: async () => {
          const revoked = await fetchJson(`/api/admin/scim-tokens/${token.id}`, { method: "DELETE" });
          if (!revoked.ok) return problemText(revoked, t("Could not revoke the token."));
          await load();
          return null;
        },
      }))))))));
}

function buildCreateForm() {
  const name = input("scim-name", "name", { required: true, maxlength: "200", autocomplete: "off" });
  const shown = el("div", { id: "scim-new-token", role: "status" });
  const form = apiForm({
    id: "scim-form", heading: t("The token was not created"), button: t("Create a token"),
    fields: [field(name, t("Name"), t("Which directory uses it, e.g. “Entra ID”."))],
    check: () => { const e = []; required(name, "name", e); return e; },
    request: () => ["/api/admin/scim-tokens", { method: "POST", json: { name: name.value.trim() } }],
    done: async (body, status) => {
      form.reset();
      say(status, t("Created “{name}”.", { name: body.details.name }));
      show(shown, el("div", { class: "notice" },
        el("p", {}, t("Copy this token into your directory now: it is not shown again.")),
        el("p", {}, t("SCIM base URL: "), el("code", {}, body.scim_base_url)),
        el("p", {}, t("Token: "), el("code", { id: "scim-token-value" }, body.token))));
      await load();
    },
  });
  show(createBox, el("h3", {}, t("Create a token")), form, shown);
}

buildCreateForm();
await load();
