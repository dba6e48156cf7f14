// Groups (admins): the list, creating a group, and per group its name, its members
// (a searchable checkbox list of accounts), its membership history (the append-only
// audit trail: who added or removed whom, on which day) and deletion behind a confirmation.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { apiForm, confirmed, field, input, openPanel, required, say } from "../lib/forms.js";
import { formatDate, formatNumber, t } from "../lib/i18n.js";

const CHANGES = { added: t("added"), removed: t("removed") };

const list = document.getElementById("groups");
const panel = document.getElementById("edit-group");
const createBox = document.getElementById("create-group");
const message = document.getElementById("admin-message");
let groups = [];

async function load() {
  const result = await fetchJson("/api/groups");
  list.removeAttribute("aria-busy");
  if (!result.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(result, t("Could not load the groups."))));
  groups = result.body;
  if (!groups.length) return show(list, el("p", {}, t("No groups yet.")));
  show(list, el("div", { class: "table-wrap" }, el("table", {},
    el("caption", { class: "visually-hidden" }, t("Groups")),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, t("Group")), el("th", { scope: "col" }, t("Description")),
      el("th", { scope: "col", class: "num" }, t("Members")), el("th", { scope: "col" }, t("Actions")))),
    el("tbody", {}, groups.map((g) => el("tr", { "data-group-id": g.id },
      el("th", { scope: "row" }, g.name,
        g.managed_by === "scim" ? el("span", { class: "muted" }, t(" — managed by your directory (SCIM)")) : null),
      el("td", {}, g.description || "—"),
      el("td", { class: "num" }, formatNumber(g.member_count)),
      el("td", {}, el("button", { type: "button", class: "secondary", "data-manage": g.id, onclick: () => edit(g.id) },
        g.managed_by === "scim" ? t("View") : t("Edit"), el("span", { class: "visually-hidden" }, ` ${g.name}`)))))))));
}

function nameFields(prefix, group) {
  const name = input(`${prefix}-name`, "name", { required: true, maxlength: "200", autocomplete: "off", value: group?.name ?? null });
  const description = input(`${prefix}-description`, "description", { multiline: true, maxlength: "2000" });
  description.value = group?.description ?? "";
  return { name, description, fields: [field(name, t("Name")), field(description, t("Description (optional)"))] };
}

async function edit(id) {
  // The member list's code (lib/checkboxes.js) loads with the group, when a panel first opens.
  const [detail, accounts, audit, { checkboxes, ticked }] = await Promise.all([
    fetchJson(`/api/groups/${id}`), fetchJson("/api/accounts"), fetchJson(`/api/groups/${id}/audit`), import("../lib/checkboxes.js")]);
  if (!detail.ok || !accounts.ok) {
    return say(message, problemText(detail.ok ? accounts : detail, t("Could not load the group.")), "alert");
  }
  const { group, members } = detail.body;
  const memberIds = new Set(members.map((m) => m.id));
  const historyBox = el("div", {}, history(audit));
  if (group.managed_by === "scim") return readOnly(group, members, historyBox);
  const names = nameFields("e", group);
  const rename = apiForm({
    id: "group-form", heading: t("The group was not saved"), button: t("Save name and description"),
    fields: names.fields,
    check: () => { const e = []; required(names.name, "name", e); return e; },
    request: () => [`/api/groups/${id}`, { method: "PATCH", json: { name: names.name.value.trim(), description: names.description.value } }],
    done: async (body, status) => { await load(); say(status, t("Saved “{name}”.", { name: body.group.name })); },
  });
  const choices = checkboxes({
    id: "e-members", legend: t("Accounts in “{name}”", { name: group.name }), name: "account_ids", filter: true,
    options: accounts.body.map((a) => ({
      value: a.id, checked: memberIds.has(a.id),
      label: `${a.display_name} (${a.email})${a.active ? "" : t(", deactivated")}`,
    })),
  });
  const membership = apiForm({
    id: "members-form", heading: t("The members were not saved"), button: t("Save members"),
    fields: [choices],
    request: () => [`/api/groups/${id}/members`, { method: "PUT", json: { account_ids: ticked(choices) } }],
    done: async (body, status) => {
      say(status, body.members.length === 1
        ? t("“{name}” now has {count} member.", { name: body.group.name, count: 1 })
        : t("“{name}” now has {count} members.", { name: body.group.name, count: formatNumber(body.members.length) }));
      show(historyBox, history(await fetchJson(`/api/groups/${id}/audit`)));
      await load();
    },
  });
  const removal = confirmed({
    label: t("Delete “{name}”…", { name: group.name }),
    text: group.member_count === 1
      ? t("Delete the group “{name}”? Its {count} member keeps their account; only the group goes, and it cannot be undone. A group that a survey wave uses as its audience cannot be deleted.", { name: group.name, count: 1 })
      : t("Delete the group “{name}”? Its {count} members keep their accounts; only the group goes, and it cannot be undone. A group that a survey wave uses as its audience cannot be deleted.", { name: group.name, count: formatNumber(group.member_count) }),
    confirmLabel: t("Yes, delete “{name}”", { name: group.name }),
    action: async () => {
      const result = await fetchJson(`/api/groups/${id}`, { method: "DELETE" });
      if (!result.ok) {
        return result.status === 500
          ? t("The group could not be deleted. It may be the audience of a survey wave.")
          : problemText(result, t("Could not delete the group."));
      }
      panel.hidden = true;
      panel.replaceChildren();
      await load();
      say(message, t("Deleted “{name}”.", { name: group.name }));
      message.setAttribute("tabindex", "-1");
      message.focus();
      return null;
    },
  });
  openPanel(panel, t("Edit “{name}”", { name: group.name }), [
    el("h3", {}, t("Name and description")), rename,
    el("h3", {}, t("Members")), membership,
    el("h3", {}, t("Membership history")), historyBox,
    el("h3", {}, t("Delete")), removal,
  ], () => list.querySelector(`[data-manage="${id}"]`)?.focus());
}

/** A group the directory provisions: shown, never edited here (the API refuses with 409). */
function readOnly(group, members, historyBox) {
  openPanel(panel, `“${group.name}”`, [
    el("p", { class: "notice", id: "group-managed" },
      t("This group is managed by your directory (SCIM). Its name and members change in the directory, which provisions them here; they cannot be edited on this page.")),
    el("h3", {}, t("Members")),
    members.length
      ? el("ul", { id: "group-members" }, members.map((m) => el("li", {}, `${m.display_name} (${m.email})`)))
      : el("p", {}, t("No members.")),
    el("h3", {}, t("Membership history")), historyBox,
  ], () => list.querySelector(`[data-manage="${group.id}"]`)?.focus());
}

const SOURCES = { admin: t("admin page or API"), demo: t("demo seed"), scim: t("directory (SCIM)"), oidc: t("sign-in (OIDC)") };

/** The group's membership changes, newest first. Days only: the trail keeps no finer time. */
function history(audit) {
  if (!audit.ok) return el("p", { class: "alert", role: "alert" }, problemText(audit, t("Could not load the history.")));
  if (!audit.body.length) return el("p", { id: "group-history" }, t("No membership changes recorded."));
  const who = (email, id) => email || (id ? t("deleted account {id}", { id }) : "—");
  return el("div", { class: "table-wrap", id: "group-history" }, el("table", {},
    el("caption", {}, t("Every change to the membership, newest first; the trail cannot be edited or deleted.")),
    el("thead", {}, el("tr", {}, [t("Day"), t("Change"), t("Account"), "By", t("Source")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, audit.body.map((c) => el("tr", { "data-change": c.change },
      el("td", {}, formatDate(c.changed_on)),
      el("td", {}, CHANGES[c.change] || c.change),
      el("th", { scope: "row" }, who(c.account_email, c.account_id)),
      el("td", {}, c.actor_id ? who(c.actor_email, c.actor_id) : "—"),
      el("td", {}, SOURCES[c.source] || c.source))))));
}

function buildCreateForm() {
  const names = nameFields("c", null);
  const form = apiForm({
    id: "create-form", heading: t("The group was not created"), button: t("Create the group"),
    fields: names.fields,
    check: () => { const e = []; required(names.name, "name", e); return e; },
    request: () => ["/api/groups", { method: "POST", json: { name: names.name.value.trim(), description: names.description.value } }],
    done: async (body, status) => {
      form.reset();
      say(status, t("Created “{name}”. Edit it in the list above to add members.", { name: body.group.name }));
      await load();
    },
  });
  show(createBox, form);
}

buildCreateForm();
await load();
