"""Ranked reads for the help panel: the database orders and limits each level.

The panel ranks by the context level first (the requested context, then
its parents, nearest first). So each level of the chain is read on its own,
with ORDER BY and a small LIMIT, and the levels are merged here. One
statement counts what the plans need for both item lists (the census). It
names the levels by their keys, so it runs together with the read of the
context chain. Then one statement (UNION ALL) reads the parts of every
list, each only the first rows of its level, through an index in the
ranking's order or through a link set known to be small. The reads cost
the same two statements and the same rows whether a context has ten items
or ten thousand.

FAQ entries and library items rank, within a level, those written for the
reader's learner group first, then by helpful votes, the latest update and
the id. An item tagged at several levels counts at the deepest. A small
level is read whole in one part that ranks in that order (at most
``limit`` rows). A large level is read by walking the rank index in two
parts: the items written for the reader's group (at most ``2 * limit``)
and all items (at most ``3 * limit``). ``merge_levels`` explains why these
sizes suffice. No part reads the items written for a group that has none.

Answered questions have one context each and rank by their accepted
answer's score (copied to the question, see ``Question.accepted_score``),
the newest question first, then the id. On PostgreSQL one LATERAL part
reads every level, so the statement has one copy of the questions'
visibility rule to plan instead of one per level.

On PostgreSQL the UNION ALL is written so that its generic plan (the one
a prepared statement reuses without planning) reads as the custom plan
does whatever the estimates: a link set known to be small is read as an
array of ids (``= ANY(ARRAY(...))``, then primary-key lookups), and
``OFFSET 0`` keeps each EXISTS a check per row, which PostgreSQL does not
turn into a join or a hashed set. PostgreSQL switches to the generic
plan after five executions whose custom plans, with their planning, cost
more on average than the generic plan's estimate (PREPARE in the
PostgreSQL manual). In the medium benchmark set that held for the
busiest context and not for the quietest, whose custom plans still cost
less to make than before.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Model

from answers.models import Question
from assist.models import HelpContext
from assist.rules import Compiled
from core.queries import Statement

# A row as the panel shows it: the id, then the item's own columns.
Row = tuple[Any, ...]
RankedRow = tuple[HelpContext, Row]

# Every part's rows have the id and two shown columns (SHOWN in all), then
# three ranking columns: a leading key, the helpful votes or score, and the
# date. The leading key is a question's level position in the chain. For an
# item it is 1 when the part ranks the reader's group first and the item is
# written for that group, else 0.
SHOWN = 3


def in_rank_order(rows: list[Row], *, columns: int) -> list[Row]:
    """Sort one part's rows by its ranking columns (after the shown ones).

    UNION ALL does not promise to keep each part's order, so the order is
    restored from the ranking columns: each descending, then the id
    ascending. Each part's values come from one column, so they compare the
    same way the database compared them.
    """
    ordered = sorted(rows, key=itemgetter(0))
    for position in reversed(range(SHOWN, len(rows[0]) if rows else SHOWN)):
        ordered.sort(key=itemgetter(position), reverse=True)
    return [row[:columns] for row in ordered]


# A level or a learner group with at most this many links is read whole and
# then sorted. A larger one is read by walking the items in rank order, which
# finds ``k`` of its items after about ``k * items / links`` rows.
SMALL_SET = 600


@dataclass(frozen=True)
class _Tables:
    """Quoted names of an item table and its two link tables."""

    items: str
    contexts: str
    context_owner: str
    context_key: str
    groups: str
    group_owner: str
    group_key: str

    @classmethod
    def of(cls, model: type[Model]) -> "_Tables":
        key = (model, connection.vendor)
        if key not in _tables:
            _tables[key] = cls.named(model)
        return _tables[key]

    @classmethod
    def named(cls, model: type[Model]) -> "_Tables":
        quote = connection.ops.quote_name
        contexts = model._meta.get_field("contexts")
        groups = model._meta.get_field("learner_groups")
        return cls(
            items=quote(model._meta.db_table),
            contexts=quote(contexts.m2m_db_table()),  # type: ignore[union-attr]
            context_owner=quote(contexts.m2m_column_name()),  # type: ignore[union-attr]
            context_key=quote(contexts.m2m_reverse_name()),  # type: ignore[union-attr]
            groups=quote(groups.m2m_db_table()),  # type: ignore[union-attr]
            group_owner=quote(groups.m2m_column_name()),  # type: ignore[union-attr]
            group_key=quote(groups.m2m_reverse_name()),  # type: ignore[union-attr]
        )


_tables: dict[tuple[type[Model], str], _Tables] = {}


class _Statement:
    """Parts gathered into one UNION ALL statement, each row tagged with its part."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, params: list[Any]) -> int:
        """Add one ranked part and return its index among the parts."""
        index = len(self.parts)
        self.parts.append(f"SELECT {index} AS part, p{index}.* FROM ({sql}) p{index}")  # noqa: S608
        self.params.extend(params)
        return index

    def fetch(self) -> list[list[Row]]:
        rows: list[list[Row]] = [[] for _ in self.parts]
        if not self.parts:
            return rows
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(self.parts), self.params)
            for index, *values in cursor.fetchall():
                rows[index].append(tuple(values))
        return rows


@dataclass(frozen=True)
class ItemSource:
    """One list of the panel: FAQ entries or library items, as a reader sees them.

    ``where`` is the reader's compiled visibility rule (``assist.rules``),
    None when it matches nothing. ``columns`` are the two columns shown.
    """

    model: type[Model]
    where: Compiled | None
    columns: tuple[str, str]


class _ItemReads:
    """The reads of one list: its census counts, then its parts.

    The census counts, up to ``SMALL_SET``, the links of each level and of
    the reader's group, and, up to ``limit``, the visible items among each
    level's first ``SMALL_SET`` links. From it, each level is read by the
    cheaper of two plans: a small level whole through its links (then
    sorted, the items written for the group first), a large one by walking
    the items' rank index and checking the link of each. A large level's
    items written for the group go through the group's links when they are
    few, else by the walk checking both links. A level is not read at all
    when a deeper level has ``limit`` visible items, since then every item
    shown matched at least that deep.
    """

    def __init__(self, source: ItemSource, where: Compiled) -> None:
        quote = connection.ops.quote_name
        self.t = _Tables.of(source.model)
        self.columns = ", ".join(quote(name) for name in source.columns)
        self.where, self.where_params = where[0], list(where[1])
        # When every item is visible (an employee's rule), the visible
        # items among the first links are those links: no join needed.
        self.everything_visible = self.where == "1 = 1"

    def capped_links(self, table: str, key: str, value: str) -> str:
        capped = f"SELECT 1 FROM {table} WHERE {key} = {value} LIMIT {SMALL_SET + 1}"  # noqa: S608
        return f"(SELECT count(*) FROM ({capped}) capped)"  # noqa: S608

    def visible_at(self, context_id: str, limit: int) -> str:
        t = self.t
        first = (
            f"SELECT {t.context_owner} AS owner FROM {t.contexts} "  # noqa: S608
            f"WHERE {t.context_key} = {context_id} LIMIT {SMALL_SET}"
        )
        # CROSS JOIN makes SQLite read the links as a co-routine, so the
        # LIMIT stops the walk at the ``limit``-th visible item. With a
        # plain JOIN it materialized all SMALL_SET links of every level
        # first (docs/benchmarks.md, 6 December). PostgreSQL's manual
        # defines CROSS JOIN as INNER JOIN ON TRUE (section 7.2.1.1). The
        # change was not timed on PostgreSQL.
        visible = (
            f"SELECT 1 FROM ({first}) first_links CROSS JOIN {t.items} "  # noqa: S608
            f"WHERE {t.items}.id = first_links.owner AND ({self.where}) "
            f"LIMIT {limit}"
        )
        return f"(SELECT count(*) FROM ({visible}) visible)"  # noqa: S608

    def census_counts(
        self, keys: list[str], group_id: int | None, limit: int
    ) -> list[tuple[str, list[Any]]]:
        """Return the census's counts: each level's, then the group's links.

        Levels are named by their keys, so the census needs no earlier read
        of the context chain.
        """
        t = self.t
        context_id = _context_id_sql()
        counts: list[tuple[str, list[Any]]] = []
        for key in keys:
            links = self.capped_links(t.contexts, t.context_key, context_id)
            counts.append((links, [key]))
            if not self.everything_visible:
                visible = self.visible_at(context_id, limit)
                counts.append((visible, [key, *self.where_params]))
        if group_id is not None:
            counts.append((self.capped_links(t.groups, t.group_key, "%s"), [group_id]))
        return counts

    def read_census(
        self,
        values: Iterator[int],
        keys: list[str],
        group_id: int | None,
        limit: int,
    ) -> tuple[dict[str, tuple[int, int]], int]:
        """Return (links, visible items) per level's key and the group's links."""
        levels = {}
        for key in keys:
            links = next(values)
            if self.everything_visible:
                visible = min(links, SMALL_SET, limit)
            else:
                visible = next(values)
            levels[key] = (links, visible)
        group_links = next(values) if group_id is not None else 0
        return levels, group_links

    def tagged(self, table: str, owner: str, key: str) -> str:
        # OFFSET 0 keeps PostgreSQL checking the link row by row.
        offset = " OFFSET 0" if connection.vendor == "postgresql" else ""
        return (
            f"EXISTS (SELECT 1 FROM {table} link WHERE link.{owner} = "  # noqa: S608
            f"{self.t.items}.id AND link.{key} = %s{offset})"
        )

    def through(self, table: str, owner: str, key: str) -> str:
        links = f"SELECT {owner} FROM {table} WHERE {key} = %s"  # noqa: S608
        if connection.vendor == "postgresql":
            return f"{self.t.items}.id = ANY(ARRAY({links}))"
        return f"{self.t.items}.id IN ({links})"

    def part(
        self,
        statement: _Statement,
        filters: list[tuple[str, int]],
        *,
        walk: bool,
        size: int,
        group_first: int | None = None,
    ) -> int:
        """Add one ranked part to ``statement`` and return its index.

        With ``group_first`` (a learner group's id), the items written for
        that group rank first.
        """
        items = self.t.items
        # "+ 0" keeps the engine from walking the rank index for a small set.
        first_key = "helpful_count" if walk else "helpful_count + 0"
        group_params: list[Any] = []
        if group_first is None:
            lead_key = "0"
        else:
            written_for = self.tagged(
                self.t.groups, self.t.group_owner, self.t.group_key
            )
            lead_key = f"CASE WHEN {written_for} THEN 1 ELSE 0 END"
            group_params = [group_first]
        conditions = [self.where, *(sql for sql, _ in filters)]
        order = f"{first_key} DESC, updated_at DESC, {items}.id"
        if group_first is not None:
            order = f"lead_key DESC, {order}"
        sql = (
            f"SELECT {items}.id, {self.columns}, {lead_key} AS lead_key, "  # noqa: S608
            f"helpful_count, updated_at FROM {items} "
            f"WHERE {' AND '.join(conditions)} ORDER BY {order} LIMIT {size}"
        )
        params = [
            *group_params,
            *self.where_params,
            *(value for _, value in filters),
        ]
        return statement.add(sql, params)

    def plan(
        self,
        statement: _Statement,
        census: tuple[dict[str, tuple[int, int]], int],
        chain: list[HelpContext],
        group_id: int | None,
        limit: int,
    ) -> list[tuple[list[int], list[int]]]:
        """Add the parts of each level to read and return their indexes per level."""
        t = self.t
        levels, group_links = census
        parts: list[tuple[list[int], list[int]]] = []
        # No part reads the items written for a group that has none.
        group = group_id if group_links else None
        for context in chain:
            links, visible = levels[context.key]
            small = links <= SMALL_SET
            at_level = (
                self.tagged(t.contexts, t.context_owner, t.context_key),
                context.pk,
            )
            via_level = (
                self.through(t.contexts, t.context_owner, t.context_key),
                context.pk,
            )
            if small:
                # Read whole and ranked with the group's items first, so
                # one part gives the level's order.
                ranked = self.part(
                    statement, [via_level], walk=False, size=limit, group_first=group
                )
                parts.append(([], [ranked]))
                if visible >= limit:
                    break
                continue
            everything = [self.part(statement, [at_level], walk=True, size=3 * limit)]
            written_for: list[int] = []
            if group is not None:
                for_group = (
                    self.tagged(t.groups, t.group_owner, t.group_key),
                    group,
                )
                via_group = (
                    self.through(t.groups, t.group_owner, t.group_key),
                    group,
                )
                if group_links <= SMALL_SET:
                    filters, walk = [via_group, at_level], False
                else:
                    filters, walk = [at_level, for_group], True
                written_for = [self.part(statement, filters, walk=walk, size=2 * limit)]
            parts.append((written_for, everything))
            if visible >= limit:
                break
        return parts


def _context_id_sql() -> str:
    """Return SQL for the id of the help context whose key is the parameter."""
    quote = connection.ops.quote_name
    table = quote(HelpContext._meta.db_table)
    return f"(SELECT id FROM {table} WHERE {quote('key')} = %s)"  # noqa: S608


def _question_parts(
    statement: _Statement, where: Compiled, chain: list[HelpContext], limit: int
) -> list[int]:
    """Add the parts for the answered questions and return their indexes.

    Each level walks the index ``question_context_best_answer``, and each
    row carries its level's position in the chain. The rows have the width
    of the items' rows, so the unused column is NULL.
    """
    rule, rule_params = where
    table = connection.ops.quote_name(Question._meta.db_table)
    if connection.vendor == "postgresql":
        # Checked per question, by the community's primary key, also in the
        # generic plan. Pulled up into a join, the generic plan read every
        # community for each level.
        rule = f"EXISTS (SELECT 1 WHERE {rule} OFFSET 0)"

    def best(context: str) -> str:
        return (
            f"SELECT id, title, accepted_score, created_at FROM {table} "  # noqa: S608
            f"WHERE {rule} AND context_id = {context} "
            "AND accepted_answer_id IS NOT NULL "
            f"ORDER BY accepted_score DESC, created_at DESC, id LIMIT {limit}"
        )

    if connection.vendor == "postgresql":
        # One copy of the rule to plan, whatever the chain's length. VALUES
        # gives the planner the number of levels, which an array would not.
        levels = ", ".join(
            f"({position}, %s::integer)" for position in range(1, len(chain) + 1)
        )
        sql = (
            "SELECT best.id, best.title, NULL AS unused, level.position, "  # noqa: S608
            f"best.accepted_score, best.created_at FROM (VALUES {levels}) "
            f"AS level(position, context_id) "
            f"CROSS JOIN LATERAL ({best('level.context_id')}) best"
        )
        context_ids = [context.pk for context in chain]
        return [statement.add(sql, [*context_ids, *rule_params])]
    indexes = []
    for position, context in enumerate(chain, start=1):
        sql = (
            f"SELECT id, title, NULL AS unused, {position} AS position, "  # noqa: S608
            f"accepted_score, created_at FROM ({best('%s')}) best"
        )
        indexes.append(statement.add(sql, [*rule_params, context.pk]))
    return indexes


@dataclass
class PanelRows:
    """The ranked rows of each item list, in the order given, and the questions."""

    items: list[list[RankedRow]]
    questions: list[RankedRow]


class PanelRead:
    """The ranked reads of one panel: a census statement, then the rows.

    The census names the levels by their keys, so it can run together with
    the read of the context chain. ``rows`` then needs the chain and the
    census's one row, and reads every list with one more statement.
    ``questions`` is the reader's compiled rule for answered questions
    outside private communities, None when it matches nothing.
    """

    def __init__(
        self,
        *,
        sources: list[ItemSource],
        questions: Compiled | None,
        keys: list[str],
        group_id: int | None,
        limit: int,
    ) -> None:
        self.sources = sources
        self.questions = questions
        self.keys = keys
        self.group_id = group_id
        self.limit = limit
        self.reads = [
            _ItemReads(source, source.where) if source.where is not None else None
            for source in sources
        ]

    def census(self) -> Statement | None:
        """Return the census statement, which reads one row of counts.

        None when no list has any count to read.
        """
        counts = [
            count
            for reader in self.reads
            if reader is not None
            for count in reader.census_counts(self.keys, self.group_id, self.limit)
        ]
        if not counts:
            return None
        sql = "SELECT " + ", ".join(count for count, _ in counts)
        return sql, [value for _, values in counts for value in values]

    def rows(self, chain: list[HelpContext], census: Sequence[Any]) -> PanelRows:
        """Return the first ``limit`` rows of each list with the level they matched.

        ``chain`` is the context chain, most specific first, whose keys are
        among ``keys``. ``census`` is the census statement's row.
        """
        limit, group_id = self.limit, self.group_id
        values = (int(value) for value in census)
        statement = _Statement()
        plans: list[list[tuple[list[int], list[int]]] | None] = []
        for reader in self.reads:
            if reader is None:
                plans.append(None)
                continue
            counts = reader.read_census(values, self.keys, group_id, limit)
            plans.append(reader.plan(statement, counts, chain, group_id, limit))
        question_parts = (
            _question_parts(statement, self.questions, chain, limit)
            if self.questions
            else []
        )
        rows = statement.fetch()

        items: list[list[RankedRow]] = []
        for source, plan in zip(self.sources, plans, strict=True):
            if plan is None:
                items.append([])
                continue
            width = 1 + len(source.columns)
            read_levels = [
                (
                    in_rank_order(
                        [row for i in group for row in rows[i]], columns=width
                    ),
                    in_rank_order(
                        [row for i in every for row in rows[i]], columns=width
                    ),
                )
                for group, every in plan
            ]
            levels = chain[: len(read_levels)]
            items.append(merge_levels(levels, read_levels, limit=limit))

        by_level: dict[int, list[Row]] = {}
        for index in question_parts:
            for row in rows[index]:
                by_level.setdefault(row[SHOWN], []).append(row)
        chosen: list[RankedRow] = []
        for position, context in enumerate(chain, start=1):
            level = in_rank_order(by_level.get(position, []), columns=2)
            chosen += [(context, row) for row in level]
        return PanelRows(items=items, questions=chosen[:limit])


def merge_levels(
    chain: list[HelpContext], levels: list[tuple[list[Row], list[Row]]], *, limit: int
) -> list[RankedRow]:
    """Merge each level's two ranked parts, deepest level first.

    A level read whole comes as one part in the level's order (the items
    written for the group first) and no written-for part.

    Why the parts' sizes suffice: a level is read only while the deeper
    levels gave fewer than ``limit`` rows, and then each deeper level was
    read whole (a full part has at least ``limit`` rows of its own level),
    so ``seen`` contains every item tagged deeper: fewer than ``limit``. A
    level read whole in one part of ``limit`` rows thus gives enough rows
    that are not in ``seen``. The written-for part, if it is full
    (``2 * limit``), alone has more than ``limit`` rows of this level. If it
    is not full, it holds every item of the level written for the group,
    and the all-items part is cut only
    after at least ``3 * limit`` rows, fewer than ``2 * limit`` of them
    deeper or written for the group.
    """
    chosen: list[RankedRow] = []
    seen: set[Any] = set()
    for context, (written_for, everything) in zip(chain, levels, strict=True):
        group_ids = {row[0] for row in written_for}
        rows = [row for row in written_for if row[0] not in seen]
        rows += [
            row for row in everything if row[0] not in seen and row[0] not in group_ids
        ]
        chosen += [(context, row) for row in rows]
        if len(chosen) >= limit:
            break
        seen |= group_ids
        seen |= {row[0] for row in everything}
    return chosen[:limit]
