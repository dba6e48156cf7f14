"""SQL for a wave's audience provenance: how its audience snapshot was formed, read from
the append-only membership trail (migration 0007) and the directory's marks (0011).

A padded audience is what makes two waves subtractable; this is what lets a manager (and
an auditor) see where each member of a snapshot came from before trusting it.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec


class SourceCount(msgspec.Struct, frozen=True):
    # 'unrecorded': added before the trail existed, or written to the database directly.
    source: Literal["admin", "scim", "oidc", "demo", "unrecorded"]
    members: int


class AudienceProvenance(msgspec.Struct, frozen=True):
    """Of the snapshot when the wave has opened, else of the group as it is now.

    The trail keeps days only, so "before the snapshot" means on or before the day the
    wave opened.
    """

    group_id: UUID
    group_name: str | None
    managed_by: Literal["scim", "admin", "oidc", "demo"]
    snapshot_on: date | None
    members: int
    sources: list[SourceCount]
    last_change_on: date | None


async def select_audience_provenance(conn: asyncpg.Connection, *, campaign_id: UUID) -> AudienceProvenance | None:
    head = await conn.fetchrow(
        """
        select c.audience_group_id as group_id, g.name as group_name, c.opened_on as snapshot_on,
               case when exists (select 1 from scim_groups s where s.group_id = c.audience_group_id) then 'scim'
                    else coalesce((select t.source from group_membership_audit t
                                   where t.group_id = c.audience_group_id order by t.seq desc limit 1), 'admin')
               end as managed_by,
               (select max(t.changed_on) from group_membership_audit t
                where t.group_id = c.audience_group_id
                  and (c.opened_on is null or t.changed_on <= c.opened_on)) as last_change_on
        from campaigns c left join groups g on g.id = c.audience_group_id
        where c.id = $1
        """,
        campaign_id,
    )
    if head is None:
        return None
    # Each member's source is that of the latest addition of them to the group on or
    # before the snapshot day.
    rows = await conn.fetch(
        """
        with c as (
            select id, audience_group_id as group_id, opened_on from campaigns where id = $1
        ), members as (
            select a.account_id from campaign_audience a join c on a.campaign_id = c.id where c.opened_on is not null
            union all
            select m.account_id from group_members m join c on m.group_id = c.group_id where c.opened_on is null
        ), latest as (
            select distinct on (t.account_id) t.account_id, t.source
            from group_membership_audit t join c on t.group_id = c.group_id
            where t.change = 'added' and (c.opened_on is null or t.changed_on <= c.opened_on)
            order by t.account_id, t.seq desc
        )
        select coalesce(l.source, 'unrecorded') as source, count(*)::int as members
        from members m left join latest l on l.account_id = m.account_id
        group by 1 order by 2 desc, 1
        """,
        campaign_id,
    )
    sources = [SourceCount(**dict(r)) for r in rows]
    return AudienceProvenance(**dict(head), members=sum(s.members for s in sources), sources=sources)
