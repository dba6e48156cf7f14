// Groups (admins): the list, creating a group, and per group its name, its members
// (a searchable checkbox list of accounts), its membership history (the append-only
// audit trail: who added or removed whom, on which day) and deletion behind a confirmation.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { apiForm, checkboxes, confirmed, field, input, openPanel, required, say, ticked } from "../lib/forms.js";

const list = document.getElementById("groups");
const panel = document.getElementById("edit-group");
const createBox = document.getElementById("create-group");
const message = document.getElementById("admin-message");
let groups = [];

async function load() {
  const result = await fetchJson("/api/groups");
  list.removeAttribute("aria-busy");
  if (!result.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(result, "Could not load the groups.")));
  groups = result.body;
  if (!groups.length) return show(list, el("p", {}, "No groups yet."));
  show(list, el("div", { class: "table-wrap" }, el("table", {},
    el("caption", { class: "visually-hidden" }, "Groups"),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "Group"), el("th", { scope: "col" }, "Description"),
      el("th", { scope: "col", class: "num" }, "Members"), el("th", { scope: "col" }, "Actions"))),
    el("tbody", {}, groups.map((g) => el("tr", { "data-group-id": g.id },
      el("th", { scope: "row" }, g.name,
        g.managed_by === "scim" ? el("span", { class: "muted" }, " — managed by your directory (SCIM)") : null),
      el("td", {}, g.description || "—"),
      el("td", { class: "num" }, String(g.member_count)),
      el("td", {}, el("button", { type: "button", class: "secondary", "data-manage": g.id, onclick: () => edit(g.id) },
        g.managed_by === "scim" ? "View" : "Edit", el("span", { class: "visually-hidden" }, ` ${g.name}`)))))))));
}

function nameFields(prefix, group) {
  const name = input(`${prefix}-name`, "name", { required: true, maxlength: "200", autocomplete: "off", value: group?.name ?? null });
  const description = input(`${prefix}-description`, "description", { multiline: true, maxlength: "2000" });
  description.value = group?.description ?? "";
  return { name, description, fields: [field(name, "Name"), field(description, "Description (optional)")] };
}

async function edit(id) {
  const [detail, accounts, audit] = await Promise.all([
    fetchJson(`/api/groups/${id}`), fetchJson("/api/accounts"), fetchJson(`/api/groups/${id}/audit`)]);
  if (!detail.ok || !accounts.ok) {
    return say(message, problemText(detail.ok ? accounts : detail, "Could not load the group."), "alert");
  }
  const { group, members } = detail.body;
  const memberIds = new Set(members.map((m) => m.id));
  const historyBox = el("div", {}, history(audit));
  if (group.managed_by === "scim") return readOnly(group, members, historyBox);
  const names = nameFields("e", group);
  const rename = apiForm({
    id: "group-form", heading: "The group was not saved", button: "Save name and description",
    fields: names.fields,
    check: () => { const e = []; required(names.name, "name", e); return e; },
    request: () => [`/api/groups/${id}`, { method: "PATCH", json: { name: names.name.value.trim(), description: names.description.value } }],
    done: async (body, status) => { await load(); say(status, `Saved “${body.group.name}”.`); },
  });
  const choices = checkboxes({
    id: "e-members", legend: `Accounts in “${group.name}”`, name: "account_ids", filter: true,
    options: accounts.body.map((a) => ({
      value: a.id, checked: memberIds.has(a.id),
      label: `${a.display_name} (${a.email})${a.active ? "" : ", deactivated"}`,
    })),
  });
  const membership = apiForm({
    id: "members-form", heading: "The members were not saved", button: "Save members",
    fields: [choices],
    request: () => [`/api/groups/${id}/members`, { method: "PUT", json: { account_ids: ticked(choices) } }],
    done: async (body, status) => {
      say(status, `“${body.group.name}” now has ${body.members.length} member${body.members.length === 1 ? "" : "s"}.`);
      show(historyBox, history(await fetchJson(`/api/groups/${id}/audit`)));
      await load();
    },
  });
  const removal = confirmed({
    label: `Delete “${group.name}”…`,
    text: `Delete the group “${group.name}”? Its ${group.member_count} member${group.member_count === 1 ? "" : "s"} keep their accounts; only the group goes, and it cannot be undone. A group that a survey wave uses as its audience cannot be deleted.`,
    confirmLabel: `Yes, delete “${group.name}”`,
    action: async () => {
      const result = await fetchJson(`/api/groups/${id}`, { method: "DELETE" });
      if (!result.ok) {
        return result.status === 500
          ? "The group could not be deleted. It may be the audience of a survey wave."
          : problemText(result, "Could not delete the group.");
      }
      panel.hidden = true;
      panel.replaceChildren();
      await load();
      say(message, `Deleted “${group.name}”.`);
      message.setAttribute("tabindex", "-1");
      message.focus();
      return null;
    },
  });
  openPanel(panel, `Edit “${group.name}”`, [
    el("h3", {}, "Name and description"), rename,
    el("h3", {}, "Members"), membership,
    el("h3", {}, "Membership history"), historyBox,
    el("h3", {}, "Delete"), removal,
  ], () => list.querySelector(`[data-manage="${id}"]`)?.focus());
}

/** A group the directory provisions: shown, never edited here (the API refuses with 409). */
function readOnly(group, members, historyBox) {
  openPanel(panel, `“${group.name}”`, [
    el("p", { class: "notice", id: "group-managed" },
      "This group is managed by your directory (SCIM). Its name and members change in the directory, " +
      "which provisions them here; they cannot be edited on this page."),
    el("h3", {}, "Members"),
    members.length
      ? el("ul", { id: "group-members" }, members.map((m) => el("li", {}, `${m.display_name} (${m.email})`)))
      : el("p", {}, "No members."),
    el("h3", {}, "Membership history"), historyBox,
  ], () => list.querySelector(`[data-manage="${group.id}"]`)?.focus());
}

const SOURCES = { admin: "admin page or API", demo: "demo seed", scim: "directory (SCIM)", oidc: "sign-in (OIDC)" };

/** The group's membership changes, newest first. Days only: the trail keeps no finer time. */
function history(audit) {
  if (!audit.ok) return el("p", { class: "alert", role: "alert" }, problemText(audit, "Could not load the history."));
  if (!audit.body.length) return el("p", { id: "group-history" }, "No membership changes recorded.");
  const who = (email, id) => email || (id ? `deleted account ${id}` : "—");
  return el("div", { class: "table-wrap", id: "group-history" }, el("table", {},
    el("caption", {}, "Every change to the membership, newest first; the trail cannot be edited or deleted."),
    el("thead", {}, el("tr", {}, ["Day", "Change", "Account", "By", "Source"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, audit.body.map((c) => el("tr", { "data-change": c.change },
      el("td", {}, c.changed_on),
      el("td", {}, c.change),
      el("th", { scope: "row" }, who(c.account_email, c.account_id)),
      el("td", {}, c.actor_id ? who(c.actor_email, c.actor_id) : "—"),
      el("td", {}, SOURCES[c.source] || c.source))))));
}

function buildCreateForm() {
  const names = nameFields("c", null);
  const form = apiForm({
    id: "create-form", heading: "The group was not created", button: "Create the group",
    fields: names.fields,
    check: () => { const e = []; required(names.name, "name", e); return e; },
    request: () => ["/api/groups", { method: "POST", json: { name: names.name.value.trim(), description: names.description.value } }],
    done: async (body, status) => {
      form.reset();
      say(status, `Created “${body.group.name}”. Edit it in the list above to add members.`);
      await load();
    },
  });
  show(createBox, form);
}

buildCreateForm();
await load();
