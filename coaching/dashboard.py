"""The coach dashboard's column registry: one table of clients whose columns come from the
apps that own the data (tier and alerts from athletes, readiness, adherence and logs from
programs, payment from billing). Coaching may import none of them, so each app registers
its columns from `AppConfig.ready()` (its `dashboard.py`), as the nightly steps do.

Adding a column: `register_column(key=..., label=..., order=..., load=..., sort_key=...)`
in your app's `dashboard.py`. `load(rows)` gets every client row the dashboard shows and
must answer with ONE query for all of them (a dict athlete id -> value; a missing id is
"no value"): the page's query count must not grow with the number of clients
(tests/test_dashboard.py counts them). Filtering, sorting and "needs attention" then run
in Python over the loaded values, so they add no query either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ClientRow:
    """One client as the row source found them: enough to name, link and scope a row."""

    athlete_id: int
    user_id: int
    membership_id: int
    coach_membership_id: int | None
    name: str
    email: str


@dataclass(frozen=True, kw_only=True)
class Column:
    """`display(value) -> str` is the cell's text; `filter_value(value) -> str` (when set)
    makes the column a GET filter named by its key; `attention(value) -> bool` (when set)
    says a value needs the coach (any column saying so puts the row under "needs
    attention")."""

    key: str
    label: str
    order: int
    load: Callable[[Sequence[ClientRow]], Mapping[int, Any]]
    sort_key: Callable[[Any], Any]
    display: Callable[[Any], str] = str
    filter_value: Callable[[Any], str] | None = None
    filter_label: str = ""
    attention: Callable[[Any], bool] | None = None
    css: Callable[[Any], str] | None = None
    numeric: bool = True  # right-aligned


RowSource = Callable[[], list[ClientRow]]

_columns: dict[str, Column] = {}
_row_source: list[RowSource] = []


def register_column(
    *,
    key: str,
    label: str,
    order: int,
    load: Callable[[Sequence[ClientRow]], Mapping[int, Any]],
    sort_key: Callable[[Any], Any],
    display: Callable[[Any], str] = str,
    filter_value: Callable[[Any], str] | None = None,
    filter_label: str = "",
    attention: Callable[[Any], bool] | None = None,
    css: Callable[[Any], str] | None = None,
    numeric: bool = True,
) -> None:
    """Add (or, on a second ready(), replace) a column of the coach dashboard."""
    _columns[key] = Column(
        key=key,
        label=label,
        order=order,
        load=load,
        sort_key=sort_key,
        display=display,
        filter_value=filter_value,
        filter_label=filter_label,
        attention=attention,
        css=css,
        numeric=numeric,
    )


def register_rows(source: RowSource) -> None:
    """Who the clients are (athletes registers it: coaching can't read profiles)."""
    _row_source[:] = [source]


def columns() -> list[Column]:
    return sorted(_columns.values(), key=lambda c: (c.order, c.key))


# --- the table -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Cell:
    key: str
    text: str
    css: str = ""


@dataclass(frozen=True, kw_only=True)
class Row:
    client: ClientRow
    cells: list[Cell]
    values: dict[str, Any]
    attention: bool


@dataclass(frozen=True, kw_only=True)
class Query:
    """What the GET parameters ask for, validated: unknown keys and values are ignored,
    so a stale shared link still opens."""

    sort: str = "name"
    descending: bool = False
    filters: dict[str, str] = field(default_factory=dict)
    attention: bool = False
    text: str = ""
    mine_only: bool = False


@dataclass(frozen=True, kw_only=True)
class Table:
    columns: list[Column]
    rows: list[Row]
    total: int
    choices: dict[str, list[tuple[str, str]]]  # filterable column key -> (value, label)
    query: Query


def parse_query(params: Mapping[str, str], *, mine_default: bool) -> Query:
    sortable = {"name", *(c.key for c in columns())}
    sort = params.get("sort", "name")
    filters = {
        c.key: params[c.key].strip()
        for c in columns()
        if c.filter_value is not None and params.get(c.key, "").strip()
    }
    who = params.get("who", "")
    return Query(
        sort=sort if sort in sortable else "name",
        descending=params.get("dir") == "desc",
        filters=filters,
        attention=params.get("attention") in ("1", "on", "true"),
        text=params.get("q", "").strip()[:100],
        mine_only=(who == "mine") if who in ("mine", "all") else mine_default,
    )


def _sorted(rows: list[Row], query: Query, by_key: Mapping[str, Column]) -> list[Row]:
    """Sort by one column; rows without a value always go last, whichever direction."""
    if query.sort == "name":
        return sorted(rows, key=lambda r: r.client.name.casefold(), reverse=query.descending)
    column = by_key[query.sort]
    present = [r for r in rows if r.values.get(column.key) is not None]
    missing = [r for r in rows if r.values.get(column.key) is None]
    present.sort(key=lambda r: r.client.name.casefold())
    present.sort(key=lambda r: column.sort_key(r.values[column.key]), reverse=query.descending)
    missing.sort(key=lambda r: r.client.name.casefold())
    return present + missing


def build_table(query: Query, *, viewer_membership_id: int) -> Table:
    """Every client row with every registered column: one query for the rows and one per
    column, whatever the number of clients."""
    cols = columns()
    by_key = {c.key: c for c in cols}
    clients = _row_source[0]() if _row_source else []
    if query.mine_only:
        # A coach's own clients, and unassigned ones (their alerts reach every coach).
        clients = [c for c in clients if c.coach_membership_id in (None, viewer_membership_id)]
    loaded = {c.key: c.load(clients) if clients else {} for c in cols}
    choices: dict[str, dict[str, str]] = {c.key: {} for c in cols if c.filter_value}
    rows = []
    for client in clients:
        values = {c.key: loaded[c.key].get(client.athlete_id) for c in cols}
        for key in choices:
            value = values[key]
            if value is not None:
                choices[key][by_key[key].filter_value(value)] = by_key[key].display(value)
        attention = any(
            c.attention is not None and values[c.key] is not None and c.attention(values[c.key])
            for c in cols
        )
        cells = [
            Cell(
                key=c.key,
                text="—" if values[c.key] is None else c.display(values[c.key]),
                css=" ".join(
                    part
                    for part in (
                        "num" if c.numeric else "",
                        c.css(values[c.key]) if c.css and values[c.key] is not None else "",
                    )
                    if part
                ),
            )
            for c in cols
        ]
        rows.append(Row(client=client, cells=cells, values=values, attention=attention))
    total = len(rows)
    text = query.text.casefold()
    if text:
        rows = [
            r for r in rows if text in r.client.name.casefold() or text in r.client.email.casefold()
        ]
    for key, wanted in query.filters.items():
        column = by_key[key]
        rows = [
            r
            for r in rows
            if r.values[key] is not None and column.filter_value(r.values[key]) == wanted
        ]
    if query.attention:
        rows = [r for r in rows if r.attention]
    return Table(
        columns=cols,
        rows=_sorted(rows, query, by_key),
        total=total,
        choices={k: sorted(v.items(), key=lambda kv: kv[1]) for k, v in choices.items()},
        query=query,
    )
