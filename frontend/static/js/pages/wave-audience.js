// The wave page's audience provenance: which group the audience came from, who manages
// that group (the directory through SCIM, sign-in claims, or admins by hand), how many
// members came from each source and the day of the group's last change before the
// snapshot, all from the append-only membership trail. Shown to those who read the wave.
import { el, fetchJson, show } from "../lib/base.js";
import { formatDate, formatNumber, t } from "../lib/i18n.js";

const section = document.getElementById("audience-provenance");
const body = document.getElementById("audience-provenance-body");
const MANAGERS = { scim: t("your directory (SCIM)"), oidc: t("sign-in claims (OpenID Connect)"), admin: t("admins, by hand"), demo: t("the demo seed") };
const SOURCES = { scim: t("directory (SCIM)"), oidc: t("sign-in claims (OIDC)"), admin: t("admin page or API"), demo: t("demo seed"),
  unrecorded: t("not in the trail (added before it existed, or directly in the database)") };

async function load() {
  const result = await fetchJson(`/api/campaigns/${section.dataset.campaignId}/audience-provenance`);
  if (!result.ok) return;  // not a reader of this wave: the wave itself says so
  const p = result.body;
  const when = p.snapshot_on
    ? t("the snapshot taken when the wave opened, on {day}", { day: formatDate(p.snapshot_on) })
    : t("the group as it is now (the wave has not opened)");
  show(body,
    el("p", {}, t("Audience: {when}. Group “{group}”, managed by {manager}.", { when, group: p.group_name ?? p.group_id, manager: MANAGERS[p.managed_by] || p.managed_by })),
    el("div", { class: "table-wrap" }, el("table", { id: "audience-sources" },
      el("caption", {}, p.members === 1 ? t("Where the {count} member came from", { count: 1 }) : t("Where the {count} members came from", { count: formatNumber(p.members) })),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Source")), el("th", { scope: "col", class: "num" }, t("Members")))),
      el("tbody", {}, p.sources.map((s) => el("tr", { "data-source": s.source },
        el("th", { scope: "row" }, SOURCES[s.source] || s.source), el("td", { class: "num" }, formatNumber(s.members))))))),
    el("p", { id: "audience-last-change" }, p.last_change_on
      ? t("Last membership change before the snapshot: {day}.", { day: formatDate(p.last_change_on) })
      : t("No membership change is recorded before the snapshot.")));
  section.hidden = false;
}

await load();
