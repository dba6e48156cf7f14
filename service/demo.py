"""The demo organisation `make run` seeds into an empty development database."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from uuid import UUID, uuid4

import asyncpg
import msgspec
import numpy as np

from analysis.matrices import matrices_from_answers
from analysis.report import build_report
from instruments import instrument_hash, load_builtin
from instruments.packing import pack_answers
from service import transparency
from service.instruments import sync_builtin_instruments
from service.issuance import WAVE, generate_keys
from service.mail import queue_invitations
from service.passwords import hash_password
from service.queries import accounts as accounts_q
from service.queries import campaigns as campaigns_q
from service.queries import demo as demo_q
from service.queries import groups as groups_q
from service.queries import services as services_q
from service.settings import Settings
from service.waves import build_manifest, canonical_hash, receipt_for

DEMO_PASSWORD = "candor-demo-password"
DEMO_DOMAIN = "candor.example"
DEMO_RESPONSES = 320

# (email local part, display name, roles)
DEMO_ACCOUNTS = [
    ("admin", "Ada Admin", ["admin"]),
    ("manager", "Max Manager", ["manager", "member"]),
    ("owner", "Olu Owner", ["owner", "member"]),
    ("moderator", "Mo Moderator", ["moderator", "member"]),
    ("member", "Mia Member", ["member"]),
    *[(f"member{i}", f"Member {i}", ["member"]) for i in range(2, 10)],
]


async def seed_demo(conn: asyncpg.Connection, settings: Settings) -> bool:
    """Seed once, into an empty database only; return whether anything was seeded."""
    async with conn.transaction():
        if await demo_q.demo_seeded(conn):
            return False
        if await accounts_q.count_accounts(conn) > 0:
            return False
        password_hash = await hash_password(DEMO_PASSWORD)
        ids = {}
        for local, name, roles in DEMO_ACCOUNTS:
            account = await accounts_q.insert_account(
                conn, email=f"{local}@{DEMO_DOMAIN}", display_name=name, password_hash=password_hash, roles=roles
            )
            ids[local] = account.id
        members = [ids[local] for local, _, roles in DEMO_ACCOUNTS if "member" in roles]
        everyone = await groups_q.insert_group(conn, name="All staff", description="Everyone who uses IT services")
        await groups_q.replace_members(conn, group_id=everyone, account_ids=members, actor_id=None, source="demo")
        finance = await groups_q.insert_group(conn, name="Finance", description="The finance department")
        await groups_q.replace_members(conn, group_id=finance, account_ids=members[3:10], actor_id=None,
                                       source="demo")
        desk = await services_q.insert_service(
            conn,
            name="Service Desk",
            description="First-line IT support: tickets, phone and walk-in help.",
            sla_first_answer_hours=8,
            sla_action_days=30,
        )
        mail = await services_q.insert_service(
            conn,
            name="Email and Calendar",
            description="Mailboxes, shared calendars and mobile mail.",
            sla_first_answer_hours=24,
            sla_action_days=45,
        )
        for service_id in (desk, mail):
            await services_q.replace_owners(conn, service_id=service_id, account_ids=[ids["owner"]])
        await _seed_waves(conn, settings, manager=ids["manager"], audience=everyone, desk=desk, mail=mail,
                          owner=ids["owner"])
        await demo_q.insert_demo_seed(conn)
        return True


def demo_credentials() -> list[tuple[str, str, str]]:
    return [(f"{local}@{DEMO_DOMAIN}", DEMO_PASSWORD, ", ".join(roles)) for local, _, roles in DEMO_ACCOUNTS[:5]]


# Dimension gaps (P − E) the synthetic wave is drawn around: reliability and
# responsiveness lag most, as they typically do for service desks.
_DEMO_GAPS = {"tangibles": -0.3, "reliability": -1.5, "responsiveness": -1.1, "assurance": -0.4, "empathy": -0.7}
_DEMO_WEIGHTS = {"tangibles": 10, "reliability": 32, "responsiveness": 22, "assurance": 19, "empathy": 17}
_DEMO_COMMENTS = [
    "Tickets sit for days before anyone looks at them.",
    "The walk-in desk people are always kind.",
    "Please tell us when a fix will land instead of closing the ticket.",
    "Password resets take far too long.",
    "Great help with my new laptop.",
    "Phone queue is long in the mornings.",
    "I never know who is handling my request.",
    "Knowledgeable staff, but hard to reach after 4pm.",
    "Updates by email would be welcome.",
    "The self-service portal is confusing.",
    "Quick and friendly when I finally get through.",
    "Printer problems come back every week.",
]


def synthetic_answers(instrument, count: int, seed: int = 2026, gaps: dict[str, float] | None = None) -> list[dict]:
    """``count`` plausible SERVQUAL answer sets (a fixed seed, so every demo looks alike),
    drawn around ``gaps`` (P − E per dimension; :data:`_DEMO_GAPS` by default)."""
    gaps = gaps or _DEMO_GAPS
    rng = np.random.default_rng(seed)
    # satisfaction from its own stream, so the item answers stay what they always were
    satisfaction_rng = np.random.default_rng(seed + 1)
    points = instrument.scale.points
    out = []
    for r in range(count):
        # Each person has an expectation level and an experience of each dimension,
        # so items of one dimension agree with each other (as real answers do).
        strictness = rng.normal(0, 0.6)
        experience = {d: rng.normal(0, 0.9) for d in _DEMO_GAPS}
        items = {}
        for item in instrument.items:
            e = int(np.clip(round(rng.normal(6.0 + strictness, 0.5)), 1, points))
            p = int(np.clip(round(6.0 + gaps[item.dimension] + experience[item.dimension]
                                  + rng.normal(0, 0.6)), 1, points))
            items[item.key] = {"expectation": e, "perception": p}
        raw = rng.dirichlet([w / 2 for w in _DEMO_WEIGHTS.values()]) * 100
        alloc = np.floor(raw).astype(int)
        alloc[np.argmax(raw - alloc)] += 100 - alloc.sum()
        answers = {"items": items, "importance": dict(zip(_DEMO_WEIGHTS, (int(a) for a in alloc), strict=True))}
        if instrument.satisfaction:
            # Overall satisfaction moves with reliability and responsiveness most (the
            # usual finding for IT services), so the key-driver analysis has a story.
            drive = (0.7 * experience["reliability"] + 0.4 * experience["responsiveness"]
                     + 0.2 * experience["empathy"] - 0.3 * strictness)
            answers["satisfaction"] = {
                s.key: int(np.clip(round(5.0 + drive + satisfaction_rng.normal(0, 0.7)), 1, points))
                for s in instrument.satisfaction}
        if r % 5 == 0:
            answers["comments"] = {"general": _DEMO_COMMENTS[(r // 5) % len(_DEMO_COMMENTS)]}
        out.append(answers)
    return out


async def open_wave(conn, settings: Settings, **fields) -> UUID:
    """Create a wave and open it at once (keys, manifest, audience snapshot, its entry in
    the key log, the invitations), as the API would: in one transaction (a savepoint when
    the caller already holds one)."""
    async with conn.transaction():
        campaign_id = await campaigns_q.insert_campaign(conn, **fields)
        size = await campaigns_q.snapshot_audience(conn, campaign_id=campaign_id)
        keys = await generate_keys(WAVE, campaign_id, issuer_name=settings.issuer_name,
                                   kek=settings.key_encryption_key)
        campaign = await campaigns_q.select_campaign(conn, campaign_id=campaign_id)
        manifest = build_manifest(campaign, keys, size)
        await transparency.open_wave(conn, keys=keys, manifest=manifest, manifest_hash=canonical_hash(manifest),
                                     audience_size=size, kek=settings.key_encryption_key)
        await queue_invitations(conn, settings, campaign_id=campaign_id)
    return campaign_id


async def store_synthetic_responses(conn, campaign_id: UUID, instrument, answers: list[dict]) -> None:
    """Store generated answers as responses (each with a spent nonce), as redemption would."""
    rows = []
    for one in answers:
        packed = pack_answers(instrument, one)
        response_id = uuid4()
        rows.append((response_id, receipt_for(campaign_id, response_id, packed),
                     packed.item_values, packed.importance, packed.satisfaction, packed.comments))
    await demo_q.insert_synthetic_responses(conn, campaign_id=campaign_id, responses=rows,
                                            nonces=[secrets.token_bytes(32) for _ in rows])


# The Service Desk's story over three closed waves: reliability lagged most, an action item
# ("Tell people when their fix will land") was done after the first wave, and the gap
# narrowed wave by wave (the latest wave is drawn around _DEMO_GAPS itself).
_DEMO_HISTORY = (
    ("Service Desk survey, last winter (demo data)", 300, -0.8),
    ("Service Desk survey, last spring (demo data)", 180, -0.4),
    ("Service Desk survey (demo data)", 60, 0.0),
)


async def _seed_waves(conn, settings: Settings, *, manager: UUID, audience: UUID, desk: UUID, mail: UUID,
                      owner: UUID) -> None:
    """Three closed SERVQUAL waves of the Service Desk with a few hundred synthetic
    responses each (so the first report has a summary, a change and a trend), an action
    item from the first wave's top candidate that was done, and an open pulse wave the
    demo members can answer."""
    await sync_builtin_instruments(conn)
    servqual = load_builtin("servqual")
    today = date.today()
    for n, (title, days_ago, reliability_shift) in enumerate(_DEMO_HISTORY):
        closed = await open_wave(
            conn, settings,
            title=title,
            description="Synthetic responses generated for the demo organisation; no real person answered.",
            service_id=desk, instrument_hash=instrument_hash(servqual), audience_group_id=audience,
            opens_on=today - timedelta(days=days_ago), closes_on=today - timedelta(days=days_ago - 30),
            k_scores=5, k_comments=10, created_by=manager,
        )
        answers = synthetic_answers(servqual, DEMO_RESPONSES, seed=2026 + n,
                                    gaps={**_DEMO_GAPS, "reliability": _DEMO_GAPS["reliability"] + reliability_shift})
        await store_synthetic_responses(conn, closed, servqual, answers)
        await campaigns_q.close_campaign(conn, campaign_id=closed)
        if n == 0:
            # the action item copies the first wave's top candidate, as the API would
            report = build_report(servqual, matrices_from_answers(servqual, answers), k_scores=5)
            top = next(c for c in report.candidates if c.level == "dimension")
            await demo_q.insert_demo_action(conn, campaign_id=closed, service_id=desk, owner_id=owner,
                                            created_by=manager, candidate=msgspec.to_builtins(top))
    await open_wave(
        conn, settings,
        title="Email and Calendar pulse",
        description="Five quick questions about mail and calendars.",
        service_id=mail, instrument_hash=instrument_hash(load_builtin("pulse")), audience_group_id=audience,
        opens_on=today, closes_on=today + timedelta(days=30), k_scores=5, k_comments=10, created_by=manager,
    )
