"""The demo organisation `make run` seeds into an empty development database.

It tells the story the product is for, so every page has something to show on first
start: three closed Service Desk waves in which the reliability gap narrows after an
action item was done; feedback threads in every state (new, acknowledged, answered;
published, awaiting a moderator, refused, with a hidden message), with replies on both
sides; action items in every state, one overdue, from ranked candidates and from
threads; two posts on the public board; an open pulse wave to answer.

Everything goes through the query and service functions the API uses (a thread is
opened as :mod:`service.routes.anon_threads` does after redeeming a token, with a
freshly spent random nonce of its month's logged key; items are created and moved by
:mod:`service.actions`). Only the days are the story's: a thread's opening day, its
messages' days and its staff actions' moments are set back, which the columns allow
(days for anonymous rows). Nothing links an account to a thread: issuance counts name
members and months, as real issuance does, and the threads name neither.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import NamedTuple, TypeVar
from uuid import UUID, uuid4

import asyncpg
import numpy as np

from analysis.matrices import matrices_from_answers
from analysis.report import build_report, item_wording
from analysis.report_types import GapReport
from instruments import Instrument, instrument_hash, load_builtin
from instruments.packing import pack_answers
from service import actions, transparency
from service import threads as thread_logic
from service.instruments import sync_builtin_instruments
from service.issuance import WAVE, generate_keys
from service.lru import LRUCache
from service.mail import queue_invitations
from service.origin import absolute_url
from service.passwords import hash_password
from service.queries import accounts as accounts_q
from service.queries import campaigns as campaigns_q
from service.queries import demo as demo_q
from service.queries import groups as groups_q
from service.queries import services as services_q
from service.queries import threads as threads_q
from service.queries.accounts import Account
from service.queries.actions import ExpectedEffect
from service.settings import Settings
from service.waves import build_manifest, canonical_hash, receipt_for

T = TypeVar("T")

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


def _required(value: T | None, what: str) -> T:
    """A row the seed has just written; the seed runs into an empty database, so a
    missing one means the schema refused it silently (a conflict), which is a bug."""
    if value is None:
        raise RuntimeError(f"demo seed: {what} was not stored")
    return value


async def seed_demo(conn: asyncpg.Connection, settings: Settings) -> bool:
    """Seed once, into an empty database only; return whether anything was seeded."""
    async with conn.transaction():
        if await demo_q.demo_seeded(conn):
            return False
        if await accounts_q.count_accounts(conn) > 0:
            return False
        password_hash = await hash_password(DEMO_PASSWORD)
        people: dict[str, Account] = {}
        for local, name, roles in DEMO_ACCOUNTS:
            account = await accounts_q.insert_account(
                conn, email=f"{local}@{DEMO_DOMAIN}", display_name=name, password_hash=password_hash, roles=roles
            )
            people[local] = _required(account, f"account {local}")
        members = [people[local].id for local, _, roles in DEMO_ACCOUNTS if "member" in roles]
        everyone = _required(await groups_q.insert_group(conn, name="All staff",
                                                         description="Everyone who uses IT services"), "group")
        await groups_q.replace_members(conn, group_id=everyone, account_ids=members, actor_id=None, source="demo")
        finance = _required(await groups_q.insert_group(conn, name="Finance", description="The finance department"),
                            "group")
        await groups_q.replace_members(conn, group_id=finance, account_ids=members[3:10], actor_id=None,
                                       source="demo")
        desk = _required(await services_q.insert_service(
            conn,
            name="Service Desk",
            description="First-line IT support: tickets, phone and walk-in help.",
            sla_first_answer_hours=8,
            sla_action_days=30,
        ), "service")
        mail = _required(await services_q.insert_service(
            conn,
            name="Email and Calendar",
            description="Mailboxes, shared calendars and mobile mail.",
            sla_first_answer_hours=24,
            sla_action_days=45,
        ), "service")
        for service_id in (desk, mail):
            await services_q.replace_owners(conn, service_id=service_id, account_ids=[people["owner"].id])
        waves = await _seed_waves(conn, settings, manager=people["manager"].id, audience=everyone, desk=desk,
                                  mail=mail)
        threads = await _seed_threads(conn, settings, services={"desk": desk, "mail": mail}, people=people)
        await _seed_tickets(conn, settings, {desk: threads["printer"], mail: threads["invites"]}, people["owner"])
        await _seed_actions(conn, waves, threads, people)
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


def _clip(value: float, points: int) -> int:
    """The scale point nearest ``value`` (numpy's round-half-to-even, as ``round``), within 1..points."""
    return min(max(round(value), 1), points)


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
            e = _clip(rng.normal(6.0 + strictness, 0.5), points)
            p = _clip(6.0 + gaps[item.dimension] + experience[item.dimension] + rng.normal(0, 0.6), points)
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
                s.key: _clip(5.0 + drive + satisfaction_rng.normal(0, 0.7), points)
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
        campaign = _required(await campaigns_q.select_campaign(conn, campaign_id=campaign_id), "wave")
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


class _ClosedWave(NamedTuple):
    id: UUID
    report: GapReport


async def _seed_waves(conn, settings: Settings, *, manager: UUID, audience: UUID, desk: UUID,
                      mail: UUID) -> list[_ClosedWave]:
    """Three closed SERVQUAL waves of the Service Desk with a few hundred synthetic
    responses each (so the first report has a summary, a change and a trend), oldest
    first with their gap reports, and an open pulse wave the demo members can answer."""
    await sync_builtin_instruments(conn)
    servqual = load_builtin("servqual")
    today = date.today()
    closed: list[_ClosedWave] = []
    for n, (title, days_ago, reliability_shift) in enumerate(_DEMO_HISTORY):
        wave = await open_wave(
            conn, settings,
            title=title,
            description="Synthetic responses generated for the demo organisation; no real person answered.",
            service_id=desk, instrument_hash=instrument_hash(servqual), audience_group_id=audience,
            opens_on=today - timedelta(days=days_ago), closes_on=today - timedelta(days=days_ago - 30),
            k_scores=5, k_comments=10, created_by=manager,
        )
        answers = synthetic_answers(servqual, DEMO_RESPONSES, seed=2026 + n,
                                    gaps={**_DEMO_GAPS, "reliability": _DEMO_GAPS["reliability"] + reliability_shift})
        await store_synthetic_responses(conn, wave, servqual, answers)
        await campaigns_q.close_campaign(conn, campaign_id=wave)
        # the candidates the API's report ranks (action items copy one of them)
        closed.append(_ClosedWave(wave, build_report(servqual, matrices_from_answers(servqual, answers), k_scores=5)))
    await open_wave(
        conn, settings,
        title="Email and Calendar pulse",
        description="Five quick questions about mail and calendars.",
        service_id=mail, instrument_hash=instrument_hash(load_builtin("pulse")), audience_group_id=audience,
        opens_on=today, closes_on=today + timedelta(days=30), k_scores=5, k_comments=10, created_by=manager,
    )
    return closed


# Threads ------------------------------------------------------------------------------------


class _Step(NamedTuple):
    """One thing that happens in a thread, ``day`` days after it was opened. Staff steps
    happen at ``hour`` (UTC) under the acting account's name; an author's keep the day only."""

    day: int
    kind: str  # author, read, resolve, consent | staff, acknowledge, answer, request | approve, reject, hide
    text: str = ""  # a message, or a moderator's reason
    hour: float = 10.0
    seq: int = 0  # the message a moderator hides


class _Thread(NamedTuple):
    key: str
    service: str  # "desk" or "mail"
    category: str
    title: str
    days_ago: int
    body: str
    steps: tuple[_Step, ...]


# Every staff_status (new, acknowledged, answered), published (two), awaiting a moderator,
# refused with a hidden message, resolved and open; replies on both sides.
_THREADS = (
    _Thread("reset", "desk", "problem", "Password resets take days", 38,
            "I locked myself out on Monday and my reset ticket was picked up on Wednesday: two days without "
            "email. Is there a faster way?", (
                _Step(0, "acknowledge", hour=7.2),
                _Step(0, "staff", "Sorry about the wait. Resets queue behind other tickets today; we are setting up "
                      "self-service resets so you will not need a ticket at all. Until then, call the desk and say "
                      "it is a lock-out: those go first.", hour=11.5),
                _Step(0, "answer", hour=11.5),
                _Step(1, "read"),
                _Step(1, "author", "Calling worked for a colleague today, thanks. When will self-service be ready?"),
                _Step(2, "staff", "We aim for the end of next month and will post here when it is live.", hour=9.0),
                _Step(3, "read"),
                _Step(3, "resolve"),
                _Step(3, "request", hour=14.0),
                _Step(4, "consent"),
                _Step(4, "approve", "Useful to everyone who gets locked out.", hour=9.5),
            )),
    _Thread("walk-in", "desk", "idea", "Open the walk-in desk before 9", 21,
            "Many of us start at 7:30. Could the walk-in desk open earlier, even one day a week?", (
                _Step(1, "acknowledge", hour=13.0),
            )),
    _Thread("printer", "desk", "problem", "The floor 3 printer jams every week", 15,
            "The printer by the kitchen on floor 3 jams every week, and each ticket is closed without a fix.", (
                _Step(0, "staff", "We have replaced its rollers twice; the model is worn out. Until it is replaced, "
                      "the floor 3 queue prints on the floor 2 printer.", hour=16.3),
                _Step(0, "answer", hour=16.3),
                _Step(1, "author", "Typical. The guy at the desk on Tuesdays clearly could not care less."),
                _Step(1, "hide", "It is about a colleague, not the service: the thread policy asks for feedback on "
                      "the service.", hour=12.0, seq=3),
                _Step(2, "author", "Fine, floor 2 works for us. Thanks for moving the queue."),
                _Step(2, "request", hour=15.0),
                _Step(3, "reject", "One message in it is hidden; threads with hidden messages stay off the board.",
                      hour=10.0),
            )),
    _Thread("laptop", "desk", "question", "Who is handling my laptop request?", 2,
            "I asked for a replacement laptop last week and have heard nothing since. Who has it?", (
                _Step(1, "author", "Any news? The battery lasts forty minutes now."),
            )),
    _Thread("vpn", "desk", "praise", "Thanks for the quick VPN fix", 9,
            "My VPN broke the evening before a trip and it worked again within the hour. Thank you!", (
                _Step(0, "staff", "Glad it worked out, and thanks for telling us. Safe travels!", hour=9.0),
                _Step(0, "answer", hour=9.0),
                _Step(1, "read"),
                _Step(1, "request", hour=10.0),
                _Step(2, "consent"),
            )),
    _Thread("invites", "mail", "problem", "Meeting invites from outside arrive hours late", 26,
            "Invitations from customers reach my calendar three or four hours after they were sent.", (
                _Step(0, "acknowledge", hour=15.0),
                _Step(1, "staff", "Thanks. We can see invitations with attachments held by the external mail "
                      "filter. We are looking into why.", hour=10.0),
                _Step(1, "answer", hour=10.0),
                _Step(5, "author", "Still happening today: one arrived after the meeting had started."),
                _Step(6, "staff", "We found the cause: the filter scans calendar attachments twice. A fix is "
                      "planned; we will tell you here when it is in.", hour=11.0),
            )),
    _Thread("mobile", "mail", "praise", "The mobile mail set-up guide was spot on", 33,
            "Set up mail and calendar on my new phone in five minutes with the guide. More guides like that, please.", (
                _Step(0, "staff", "Thank you! A calendar-sharing guide is next.", hour=14.0),
                _Step(0, "answer", hour=14.0),
                _Step(0, "request", hour=14.1),
                _Step(1, "read"),
                _Step(1, "consent"),
                _Step(2, "approve", hour=9.0),
            )),
    _Thread("shared", "mail", "question", "Can a shared mailbox have its own calendar?", 5,
            "Our team shares a mailbox. Can it have a calendar we all see, without forwarding invites?", (
                _Step(1, "acknowledge", hour=8.5),
            )),
)

_AUDITED = {"acknowledge": "acknowledge", "answer": "answer", "request": "request-publication",
            "approve": "approve-publication", "reject": "reject-publication", "hide": "hide-message"}


def _moment(opened_on: date, step: _Step, now: datetime) -> datetime:
    """When a staff step happened: its day and hour, never later than a few minutes ago."""
    at = datetime.combine(opened_on + timedelta(days=step.day), time(), UTC) + timedelta(hours=step.hour)
    return min(at, now - timedelta(minutes=5))


async def _seed_threads(conn, settings: Settings, *, services: dict[str, UUID],
                        people: dict[str, Account]) -> dict[str, UUID]:
    """:data:`_THREADS`, each opened as the anonymous route opens one after redeeming a
    thread token of its month, then taken through its steps with the routes' own
    queries. In each of those months the demo members (not Mia, whose allowance stays
    whole) fetched their whole allowance at once, as the browser does, so the issuance
    rows say nothing about who opened which thread. The threads' secrets are drawn and
    forgotten: nobody can follow a demo thread as its author."""
    today = thread_logic.today()
    now = datetime.now(UTC)
    limit = settings.thread_tokens_per_month
    opened_on = {spec.key: today - timedelta(days=spec.days_ago) for spec in _THREADS}
    months = {}
    for period in sorted({thread_logic.period_of(day) for day in opened_on.values()}):
        months[period] = await thread_logic.period_keys(conn, period=period, issuer_name=settings.issuer_name,
                                                        kek=settings.key_encryption_key)
        for local, account in people.items():
            if local.startswith("member") and local != "member":
                await threads_q.record_issuance(conn, period=period, account_id=account.id, count=limit, limit=limit)
    opened: dict[str, UUID] = {}
    for spec in _THREADS:
        day = opened_on[spec.key]
        thread_id = uuid4()
        stored = await threads_q.open_thread(
            conn, period=months[thread_logic.period_of(day)].owner, nonce=secrets.token_bytes(32),
            thread_id=thread_id, service_id=services[spec.service],
            secret_hash=thread_logic.secret_hash(settings.secret_key, thread_logic.new_secret()),
            category=spec.category, title=spec.title, body=spec.body, opened_on=day)
        if not stored:
            raise RuntimeError(f"demo seed: thread {spec.key!r} was not stored")
        for step in spec.steps:
            await _thread_step(conn, thread_id, day, step, now=now, people=people)
        opened[spec.key] = thread_id
    return opened


async def _thread_step(conn, thread_id: UUID, opened_on: date, step: _Step, *, now: datetime,
                       people: dict[str, Account]) -> None:
    """One step, as the route for it would take it (owners answer, moderators decide)."""
    owner, moderator = people["owner"].id, people["moderator"].id
    at = _moment(opened_on, step, now)
    day = min(opened_on + timedelta(days=step.day), now.date())
    await threads_q.lock_thread(conn, thread_id=thread_id)
    if step.kind in ("author", "staff"):
        staff = step.kind == "staff"
        message_id, seq = await threads_q.insert_message(conn, thread_id=thread_id, body=step.text,
                                                         staff_id=owner if staff else None)
        await demo_q.date_message(conn, message_id=message_id, posted_on=at.date() if staff else day,
                                  posted_at=at if staff else None)
        if not staff:  # an author's reply marks the thread read up to it, as the route does
            await threads_q.mark_read(conn, thread_id=thread_id, seq=seq)
        return
    changes: dict[str, object] = {
        "read": {}, "resolve": {"resolved": True}, "consent": {"author_consent": True},
        "acknowledge": {"staff_status": "acknowledged"}, "answer": {"staff_status": "answered"},
        "request": {"publish_requested": True}, "approve": {"publish_approved": True},
        "reject": {"publish_approved": False, "publish_requested": False}, "hide": {},
    }[step.kind]
    await threads_q.update_thread(conn, thread_id=thread_id, changes=changes)
    if step.kind == "read":
        messages = await threads_q.select_messages(conn, thread_id=thread_id)
        await threads_q.mark_read(conn, thread_id=thread_id, seq=messages[-1].seq)
    message_id = None
    if step.kind == "hide":
        message_id = _required(await threads_q.hide_message(conn, thread_id=thread_id, seq=step.seq,
                                                            reason=step.text), f"message {step.seq}")
    if step.kind in _AUDITED:
        actor = moderator if step.kind in ("approve", "reject", "hide") else owner
        await threads_q.insert_audit(conn, thread_id=thread_id, actor_id=actor, action=_AUDITED[step.kind],
                                     reason=step.text, message_id=message_id)
        await demo_q.date_audit(conn, thread_id=thread_id, action=_AUDITED[step.kind], at=at)


DEMO_WEBHOOK = "https://servicedesk.candor.example/hooks/candor"  # RFC 2606: never resolves


async def _seed_tickets(conn, settings: Settings, tickets: dict[UUID, UUID], owner: Account) -> None:
    """Each service's service-desk webhook, and one thread sent to it as a ticket that was
    delivered, as the ticket route and the delivery worker store them (the worker's HTTP
    call aside: the demo's desk is at a reserved name that never resolves, so a ticket
    an owner sends from the demo fails visibly instead of reaching anyone)."""
    for service_id, thread_id in tickets.items():
        secret = thread_logic.encrypt_webhook_secret(settings.key_encryption_key, service_id,
                                                     secrets.token_urlsafe(24))
        await threads_q.upsert_webhook(conn, service_id=service_id, url=DEMO_WEBHOOK, secret=secret, active=True,
                                       updated_by=owner.id)
        thread = _required(await threads_q.select_thread(conn, thread_id=thread_id), "thread")
        messages = await threads_q.select_messages(conn, thread_id=thread_id)
        link = absolute_url(settings, f"/threads/staff/{thread_id}")
        await threads_q.insert_delivery(conn, service_id=service_id, thread_id=thread_id, requested_by=owner.id,
                                        payload=thread_logic.ticket_payload(thread, messages, link))
        await threads_q.insert_audit(conn, thread_id=thread_id, actor_id=owner.id, action="send-ticket")
    now = datetime.now(UTC)
    for delivery in await threads_q.claim_due_deliveries(conn, now=now, lease_until=now, max_attempts=1):
        await threads_q.record_attempt(conn, delivery_id=delivery.id, attempt=delivery.attempts, state="delivered",
                                       status=202, error="", next_attempt_at=None, now=now)


# Action items -------------------------------------------------------------------------------


async def _seed_actions(conn, waves: list[_ClosedWave], threads: dict[str, UUID],
                        people: dict[str, Account]) -> None:
    """Action items in every state, created and moved by :mod:`service.actions` as the API
    does: the done item from the first wave's top candidate (measured against the later
    waves), items from the latest wave's candidates in progress, accepted and proposed,
    and items from threads: one won't do, one proposed, one overdue."""
    state = SimpleNamespace(instruments=LRUCache[str, Instrument](4))
    manager, owner = people["manager"], people["owner"]
    servqual = load_builtin("servqual")
    today = date.today()
    first, latest = waves[0], waves[-1]
    top = _candidate(first.report, "dimension", 0)
    await _action(conn, state, manager, owner, first, top, "Tell people when their fix will land",
                  "Every ticket gets a date for its fix and an update when that date moves.",
                  due_on=today, expected=0.5, moves=("accepted", "in_progress", "done"))
    second = _candidate(latest.report, "dimension", 1)
    await _action(conn, state, manager, owner, latest, second, "Answer the phone queue faster in the mornings",
                  "Two more people on the phones from 8 to 10, when half of the day's calls come in.",
                  due_on=today + timedelta(days=40), expected=0.4, moves=("accepted", "in_progress"))
    item = _candidate(latest.report, "item", 0)
    wording = next(item_wording(i) for i in servqual.items if i.key == item.target)
    await _action(conn, state, manager, owner, latest, item, f"Act on “{wording}”"[:200],
                  "A short review of the tickets behind this item, then one change we can measure in the next wave.",
                  due_on=today + timedelta(days=60), expected=0.5, moves=("accepted",))
    await _action(conn, state, manager, owner, latest, _candidate(latest.report, "dimension", 2), None,
                  "Proposed from the latest wave; the owner has not taken it on yet.",
                  due_on=today + timedelta(days=30), expected=None, moves=())
    await _thread_action(conn, state, owner, threads["walk-in"], "Trial an early walk-in desk on Mondays",
                         due_on=today + timedelta(days=30), moves=())
    await _thread_action(conn, state, owner, threads["printer"], "Replace the floor 3 printer",
                         due_on=today + timedelta(days=20), moves=(),
                         wont_do="No hardware budget this year; the floor 3 queue now prints on floor 2.")
    await _thread_action(conn, state, owner, threads["invites"], "Release held invitations from the mail filter",
                         due_on=today - timedelta(days=4), moves=("accepted", "in_progress"))


def _candidate(report: GapReport, level: str, index: int):
    """The report's ``index``-th ranked candidate of ``level`` (the last when fewer)."""
    ranked = [c for c in report.candidates if c.level == level]
    if not ranked:
        raise RuntimeError(f"demo seed: the demo wave ranks no {level} candidate")
    return ranked[min(index, len(ranked) - 1)]


async def _action(conn, state: SimpleNamespace, manager: Account, owner: Account, wave: _ClosedWave, candidate,
                  title: str | None, description: str, *, due_on: date, expected: float | None,
                  moves: tuple[str, ...]) -> None:
    """The manager turns a ranked candidate into an item; its owner moves it along ``moves``."""
    campaign = _required(await campaigns_q.select_campaign(conn, campaign_id=wave.id), "wave")
    effect = None if expected is None else ExpectedEffect(level=candidate.level, key=candidate.target,
                                                          change=expected)
    draft = actions.draft_from_candidate(campaign, wave.report, level=candidate.level,
                                         target=candidate.target, title=title, expected=effect)
    item = await actions.create_item(state, conn, manager, draft, description=description, owner_id=owner.id,
                                     due_on=due_on)
    for status in moves:
        item = await actions.change_status(conn, owner, item, status=status, reason=None, note="")


async def _thread_action(conn, state: SimpleNamespace, owner: Account, thread_id: UUID, title: str, *,
                         due_on: date, moves: tuple[str, ...], wont_do: str | None = None) -> None:
    """The service's owner turns a thread into an item and moves it along ``moves`` (or refuses it)."""
    draft = await actions.draft_from_thread(conn, thread_id=thread_id, title=title, campaign_id=None, expected=None)
    item = await actions.create_item(state, conn, owner, draft, description="From a feedback thread.",
                                     owner_id=owner.id, due_on=due_on)
    for status in moves:
        item = await actions.change_status(conn, owner, item, status=status, reason=None, note="")
    if wont_do is not None:
        await actions.change_status(conn, owner, item, status="wont_do", reason=wont_do, note="")
