"""The demo organisation `make run` seeds into an empty development database."""

from __future__ import annotations

import asyncpg

from service.passwords import hash_password
from service.queries import accounts as accounts_q
from service.queries import groups as groups_q
from service.queries import services as services_q

DEMO_PASSWORD = "candor-demo-password"
DEMO_DOMAIN = "candor.example"

# (email local part, display name, roles)
DEMO_ACCOUNTS = [
    ("admin", "Ada Admin", ["admin"]),
    ("manager", "Max Manager", ["manager", "member"]),
    ("owner", "Olu Owner", ["owner", "member"]),
    ("moderator", "Mo Moderator", ["moderator", "member"]),
    ("member", "Mia Member", ["member"]),
    *[(f"member{i}", f"Member {i}", ["member"]) for i in range(2, 10)],
]


async def seed_demo(conn: asyncpg.Connection) -> bool:
    """Seed once, into an empty database only; return whether anything was seeded."""
    async with conn.transaction():
        if await conn.fetchval("select exists (select 1 from demo_seed)"):
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
        await groups_q.replace_members(conn, group_id=everyone, account_ids=members)
        finance = await groups_q.insert_group(conn, name="Finance", description="The finance department")
        await groups_q.replace_members(conn, group_id=finance, account_ids=members[3:10])
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
        await conn.execute("insert into demo_seed default values")
        return True


def demo_credentials() -> list[tuple[str, str, str]]:
    return [(f"{local}@{DEMO_DOMAIN}", DEMO_PASSWORD, ", ".join(roles)) for local, _, roles in DEMO_ACCOUNTS[:5]]
