// The wave page's audience provenance: which group the audience came from, who manages
// that group (the directory through SCIM, sign-in claims, or admins by hand), how many
// members came from each source and the day of the group's last change before the
// snapshot, all from the append-only membership trail. Shown to those who read the wave.
import { el, fetchJson, show } from "../lib/base.js";

const section = document.getElementById("audience-provenance");
const body = document.getElementById("audience-provenance-body");
const MANAGERS = { scim: "your directory (SCIM)", oidc: "sign-in claims (OpenID Connect)", admin: "admins, by hand", demo: "the demo seed" };
const SOURCES = { scim: "directory (SCIM)", oidc: "sign-in claims (OIDC)", admin: "admin page or API", demo: "demo seed",
  unrecorded: "not in the trail (added before it existed, or directly in the database)" };

async function load() {
  const result = await fetchJson(`/api/campaigns/${section.dataset.campaignId}/audience-provenance`);
  if (!result.ok) return;  // not a reader of this wave: the wave itself says so
  const p = result.body;
  const when = p.snapshot_on ? `the snapshot taken when the wave opened, on ${p.snapshot_on}` : "the group as it is now (the wave has not opened)";
  show(body,
    el("p", {}, `Audience: ${when}. Group “${p.group_name ?? p.group_id}”, managed by ${MANAGERS[p.managed_by] || p.managed_by}.`),
    el("div", { class: "table-wrap" }, el("table", { id: "audience-sources" },
      el("caption", {}, `Where the ${p.members} member${p.members === 1 ? "" : "s"} came from`),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Source"), el("th", { scope: "col", class: "num" }, "Members"))),
      el("tbody", {}, p.sources.map((s) => el("tr", { "data-source": s.source },
        el("th", { scope: "row" }, SOURCES[s.source] || s.source), el("td", { class: "num" }, String(s.members))))))),
    el("p", { id: "audience-last-change" }, p.last_change_on
      ? `Last membership change before the snapshot: ${p.last_change_on}.`
      : "No membership change is recorded before the snapshot."));
  section.hidden = false;
}

await load();
