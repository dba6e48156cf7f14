// Accounts (admins): the list, creating an account, and per account its name and roles,
// deactivation (behind a confirmation) and a new password.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { checkboxes, ticked } from "../lib/checkboxes.js";
import { apiForm, confirmed, field, input, openPanel, required, say } from "../lib/forms.js";
import { t } from "../lib/i18n.js";

const ROLES = [
  ["member", t("Member: answers surveys and gives feedback")],
  ["owner", t("Owner: owns services and answers their feedback")],
  ["manager", t("Manager: runs survey waves and the service catalogue")],
  ["moderator", t("Moderator: decides what the public board shows")],
  ["admin", t("Admin: manages accounts, groups and services")],
];
const MIN_PASSWORD = 10;

const list = document.getElementById("accounts");
const panel = document.getElementById("edit-account");
const createBox = document.getElementById("create-account");
const me = list.dataset.me; // the signed-in admin
const OWN = t("This is your account. You cannot remove your own admin role or deactivate yourself, so that an admin always remains; another admin can.");
let accounts = [];

function roleBoxes(id, chosen) {
  return checkboxes({ id, legend: t("Roles"), name: "roles", hint: t("At least one."),
    options: ROLES.map(([value, label]) => ({ value, label, checked: chosen.includes(value) })) });
}

function checkRoles(box, errors) {
  if (!ticked(box).length) errors.push({ field: "roles", reason: t("Choose at least one role.") });
}

function checkPassword(node, errors) {
  if (node.value.length < MIN_PASSWORD) errors.push({ field: "password", reason: t("Use at least {count} characters.", { count: MIN_PASSWORD }) });
}

async function load() {
  const result = await fetchJson("/api/accounts");
  list.removeAttribute("aria-busy");
  if (!result.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(result, t("Could not load the accounts."))));
  accounts = result.body;
  show(list, el("div", { class: "table-wrap" }, el("table", {},
    el("caption", { class: "visually-hidden" }, t("Accounts")),
    el("thead", {}, el("tr", {}, [t("Name"), t("Email"), t("Roles"), t("Status"), t("Actions")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, accounts.map((a) => el("tr", { "data-account-id": a.id },
      el("th", { scope: "row" }, a.display_name, a.id === me
        ? [" ", el("span", { class: "status", "aria-hidden": "true" }, t("you")), el("span", { class: "visually-hidden" }, t(" (your account)"))]
        : null),
      el("td", {}, el("span", { class: "mono" }, a.email)),
      el("td", {}, a.roles.join(", ")),
      el("td", {}, el("span", { class: a.active ? "status status-open" : "status status-closed" }, a.active ? t("active") : t("deactivated"))),
      el("td", {}, el("button", { type: "button", class: "secondary", "data-manage": a.id, onclick: () => edit(a.id) },
        t("Manage"), el("span", { class: "visually-hidden" }, ` ${a.display_name}`)))))))));
}

function focusRow(id) {
  list.querySelector(`[data-manage="${id}"]`)?.focus();
}

function edit(id) {
  const account = accounts.find((a) => a.id === id);
  const name = input("e-name", "display_name", { required: true, maxlength: "200", autocomplete: "off", value: account.display_name });
  const own = account.id === me;
  const roles = roleBoxes("e-roles", account.roles);
  if (own) roles.setAttribute("aria-describedby", `${roles.getAttribute("aria-describedby")} own-account`);
  const details = apiForm({
    id: "account-form", heading: t("The account was not saved"), button: t("Save name and roles"),
    conflictField: "roles", // the API's refusal to take away your own admin role, shown at the roles
    fields: [field(name, t("Display name")), roles],
    check: () => {
      const e = [];
      required(name, "display_name", e);
      checkRoles(roles, e);
      if (own && !ticked(roles).includes("admin")) e.push({ field: "roles", reason: t("An admin cannot remove their own admin access.") });
      return e;
    },
    request: () => [`/api/accounts/${id}`, { method: "PATCH", json: { display_name: name.value.trim(), roles: ticked(roles) } }],
    // The list first: "Saved" is announced when the page already shows what was saved.
    done: async (body, status) => { await load(); say(status, t("Saved {name}: {roles}.", { name: body.display_name, roles: body.roles.join(", ") })); },
  });
  const password = input("e-password", "password", { type: "password", autocomplete: "new-password", maxlength: "1024" });
  const reset = apiForm({
    id: "password-form", heading: t("The password was not set"), button: t("Set the new password"),
    fields: [field(password, t("New password"), t("At least {count} characters. Setting it signs {name} out everywhere; give them the new password by another channel.", { count: MIN_PASSWORD, name: account.display_name }))],
    check: () => { const e = []; checkPassword(password, e); return e; },
    request: () => [`/api/accounts/${id}`, { method: "PATCH", json: { password: password.value } }],
    done: (body, status) => { password.value = ""; say(status, t("New password set for {name}; their sessions have ended.", { name: body.display_name })); },
  });
  const access = el("div", { id: "account-access" });
  const showAccess = (current) => show(access, own
    ? el("p", {}, t("You are signed in with this account, so you cannot deactivate it here; another admin can."))
    : current.active
    ? confirmed({
      label: t("Deactivate {name}…", { name: current.display_name }),
      text: t("Deactivating {name} ({email}) signs them out everywhere and stops them signing in until an admin reactivates the account. Nothing else about the account changes.", { name: current.display_name, email: current.email }),
      confirmLabel: t("Yes, deactivate {name}", { name: current.display_name }),
      action: () => setActive(current, false, showAccess),
    })
    : el("div", {},
      el("p", {}, t("{name} is deactivated and cannot sign in.", { name: current.display_name })),
      el("button", { type: "button", class: "secondary", onclick: () => setActive(current, true, showAccess) }, t("Reactivate {name}", { name: current.display_name }))));
  showAccess(account);
  openPanel(panel, t("Manage {name}", { name: account.display_name }), [
    el("p", { class: "muted mono" }, account.email),
    own ? el("p", { class: "notice", id: "own-account" }, OWN) : null,
    el("h3", {}, t("Name and roles")), details,
    el("h3", {}, t("Access")), access,
    el("h3", {}, t("Password")), reset,
  ], () => focusRow(id));
}

/** Deactivate or reactivate; returns an error sentence, or redraws the access part. */
async function setActive(account, active, redraw) {
  const result = await fetchJson(`/api/accounts/${account.id}`, { method: "PATCH", json: { active } });
  if (!result.ok) return problemText(result, t("Could not change the account."));
  await load();
  redraw(result.body);
  const note = el("div", { role: "status", tabindex: "-1" });
  document.getElementById("account-access").prepend(note);
  say(note, active ? t("{name} can sign in again.", { name: result.body.display_name }) : t("{name} is deactivated and signed out everywhere.", { name: result.body.display_name }));
  note.focus();
  return null;
}

function buildCreateForm() {
  const email = input("c-email", "email", { type: "email", required: true, maxlength: "254", autocomplete: "off" });
  const name = input("c-name", "display_name", { required: true, maxlength: "200", autocomplete: "off" });
  const password = input("c-password", "password", { type: "password", required: true, maxlength: "1024", autocomplete: "new-password" });
  const roles = roleBoxes("c-roles", ["member"]);
  const form = apiForm({
    id: "create-form", heading: t("The account was not created"), button: t("Create the account"), conflictField: "email",
    fields: [field(email, t("Email address")), field(name, t("Display name"), t("Shown to others, e.g. in the owners of a service.")),
      field(password, t("Initial password"), t("At least {count} characters. Give it to the person by another channel.", { count: MIN_PASSWORD })), roles],
    check: () => {
      const e = [];
      if (!/^[^@\s]+@[^@\s]+$/.test(email.value.trim())) e.push({ field: "email", reason: t("Enter an email address such as name@example.org.") });
      required(name, "display_name", e);
      checkPassword(password, e);
      checkRoles(roles, e);
      return e;
    },
    request: () => ["/api/accounts", { method: "POST", json: {
      email: email.value.trim(), display_name: name.value.trim(), password: password.value, roles: ticked(roles) } }],
    done: async (body, status) => {
      form.reset();
      await load();
      say(status, t("Created {name} ({email}) with roles {roles}.", { name: body.display_name, email: body.email, roles: body.roles.join(", ") }));
    },
  });
  show(createBox, form);
}

buildCreateForm();
await load();
