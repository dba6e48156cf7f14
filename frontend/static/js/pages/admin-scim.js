// Directory provisioning (admins): the SCIM bearer tokens. A new token is shown once, in
// this page only (the server keeps its SHA-256); the list shows each token's name and the
// days it was created, last used and revoked, and revokes a token behind a confirmation.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { apiForm, confirmed, field, input, required, say } from "../lib/forms.js";

const list = document.getElementById("scim-tokens");
const createBox = document.getElementById("scim-create");

async function load() {
  const result = await fetchJson("/api/admin/scim-tokens");
  list.removeAttribute("aria-busy");
  if (!result.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(result, "Could not load the tokens.")));
  if (!result.body.length) return show(list, el("p", {}, "No tokens yet: the directory cannot provision until you create one."));
  show(list, el("div", { class: "table-wrap" }, el("table", { id: "scim-token-table" },
    el("caption", { class: "visually-hidden" }, "SCIM tokens"),
    el("thead", {}, el("tr", {}, ["Name", "Created", "Last used", "Status", "Actions"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, result.body.map((t) => el("tr", { "data-token-id": t.id },
      el("th", { scope: "row" }, t.name),
      el("td", {}, t.created_on),
      el("td", {}, t.last_used_on || "never"),
      el("td", {}, t.revoked_on ? `revoked ${t.revoked_on}` : "active"),
      el("td", {}, t.revoked_on ? "—" : confirmed({
        label: `Revoke “${t.name}”…`,
        text: `Revoke the token “${t.name}”? The directory using it can no longer provision, at once.`,
        confirmLabel: `Yes, revoke “${t.name}”`,
        action: async () => {
          const revoked = await fetchJson(`/api/admin/scim-tokens/${t.id}`, { method: "DELETE" });
          if (!revoked.ok) return problemText(revoked, "Could not revoke the token.");
          await load();
          return null;
        },
      }))))))));
}

function buildCreateForm() {
  const name = input("scim-name", "name", { required: true, maxlength: "200", autocomplete: "off" });
  const shown = el("div", { id: "scim-new-token", role: "status" });
  const form = apiForm({
    id: "scim-form", heading: "The token was not created", button: "Create a token",
    fields: [field(name, "Name", "Which directory uses it, e.g. “Entra ID”.")],
    check: () => { const e = []; required(name, "name", e); return e; },
    request: () => ["/api/admin/scim-tokens", { method: "POST", json: { name: name.value.trim() } }],
    done: async (body, status) => {
      form.reset();
      say(status, `Created “${body.details.name}”.`);
      show(shown, el("div", { class: "notice" },
        el("p", {}, "Copy this token into your directory now: it is not shown again."),
        el("p", {}, "SCIM base URL: ", el("code", {}, body.scim_base_url)),
        el("p", {}, "Token: ", el("code", { id: "scim-token-value" }, body.token))));
      await load();
    },
  });
  show(createBox, el("h3", {}, "Create a token"), form, shown);
}

buildCreateForm();
await load();
