"""Reading and writing an organisation's roster: its settings, carers and clients (a row
each, the library's JSON), and the CSV import and export. No HTTP here (routes call
these; a precondition not met is ``PreconditionRequired`` or ``PreconditionFailed``) and
no parsing of files (``carescheduler.roster.csv_import`` does that).

Every change holds the organisation's ``RosterState`` row first and raises the roster's
version by one; what changed records that version, which is its ETag. So two writers of
the same roster take turns, each check of an ETag is made against the roster as it is
when the change is written, and an ETag is never given twice (a carer removed and added
again gets a new one).

Each change keeps the roster valid as the library defines it (``Roster``): skills named
are declared in the settings, carers a client prefers or bans exist. The checks look only
at what the change touches, so one carer's edit does not read 2,000 clients; removing a
carer reads only the clients whose JSON names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from pydantic import BaseModel, Field
from pydantic_core import to_json
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from carescheduler import InputError
from carescheduler.day.editing import EntityInUse, MissingEntity
from carescheduler.roster import Roster, RosterCarer, RosterClient
from carescheduler.roster.csv_import import read_roster_csv, roster_to_csv
from carescheduler.roster.settings import RosterSettings, roster_with, settings_of

from . import store
from .cache import Lru
from .models import RosterCarerRow, RosterClientRow, RosterState, utcnow

__all__ = [
    "Kind",
    "PreconditionFailed",
    "PreconditionRequired",
    "RosterChanges",
    "delete_entity",
    "entities",
    "export_files",
    "has_roster",
    "import_files",
    "load_roster",
    "put_entity",
    "put_settings",
    "read_entity",
    "read_settings",
    "roster_etag",
]

Kind = Literal["carers", "clients"]
KINDS: tuple[Kind, ...] = ("carers", "clients")
ROWS: dict[Kind, type[RosterCarerRow] | type[RosterClientRow]] = {"carers": RosterCarerRow, "clients": RosterClientRow}
MODELS: dict[Kind, type[RosterCarer] | type[RosterClient]] = {"carers": RosterCarer, "clients": RosterClient}
ONE = {"carers": "carer", "clients": "client"}
CHUNK = 500
"""Ids per ``IN (...)`` list (SQLite takes some thousands of parameters a statement)."""
PARSED_KEEP = 20_000
"""Carers and clients kept parsed per process (a client with a package of four calls is
about 1.5 kB of JSON; 2,000 of them take 0.35 s to parse, and the days and weeks planned
from a roster read it whole)."""

_parsed = Lru(keep=PARSED_KEEP)


class PreconditionRequired(Exception):
    """A change to something that exists, sent without If-Match (HTTP 428)."""


class PreconditionFailed(Exception):
    """If-Match (or If-None-Match) does not hold for what is stored now (HTTP 412)."""


# --- versions and ETags ----------------------------------------------------------------------


def etag(what: str, version: int) -> str:
    """``"carer.12"``: what it is and the roster version it last changed at (an ETag of a
    carer is never taken for a client's, nor for the whole roster's)."""
    return f'"{what}.{version}"'


def _matches(if_match: str, tag: str) -> bool:
    tags = [part.strip().removeprefix("W/") for part in if_match.split(",")]
    return "*" in tags or tag in tags


def check_preconditions(
    current: str | None, if_match: str | None, if_none_match: str | None = None, what: str = "it"
) -> None:
    """Whether a write may go on, ``current`` being the stored ETag (None: nothing stored).
    Creating needs no If-Match (``If-None-Match: *`` makes sure nothing is replaced);
    replacing or removing needs the ETag last read."""
    if current is None:
        if if_match is not None:
            raise PreconditionFailed(f"If-Match is for an existing {what}, and there is none (send none to create)")
        return
    if if_none_match is not None and _matches(if_none_match, current):
        raise PreconditionFailed(f"the {what} exists already ({current}); If-None-Match refuses to replace it")
    if if_match is None:
        raise PreconditionRequired(f"send If-Match with the {what}'s ETag ({current}) to change it")
    if not _matches(if_match, current):
        raise PreconditionFailed(f"the {what} has changed (now {current}); read it again")


def _state(session: Session, org: str) -> RosterState | None:
    return session.get(RosterState, org)


def hold(session: Session, org: str) -> RosterState:
    """The organisation's roster state, created on its first write, held for this
    transaction: another writer of the roster waits until this one commits (a no-op
    ``UPDATE``, as ``store.hold_day``), and what is read after is as it is now."""
    store.ensure_org(session, org)
    insert_for = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    session.execute(
        insert_for(RosterState)
        .values(org_id=org, settings=None, settings_version=0, version=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["org_id"])
    )
    session.execute(
        update(RosterState)
        .where(RosterState.org_id == org)
        .values(version=RosterState.version)
        .execution_options(synchronize_session=False)
    )
    return session.get_one(RosterState, org, populate_existing=True)


def _next_version(state: RosterState) -> int:
    state.version += 1
    state.updated_at = utcnow()
    return state.version


def roster_etag(session: Session, org: str) -> str:
    state = _state(session, org)
    return etag("roster", state.version if state is not None else 0)


# --- settings ----------------------------------------------------------------------------------


def _settings_of(state: RosterState | None) -> RosterSettings:
    if state is None or state.settings is None:
        return RosterSettings()
    return RosterSettings.model_validate_json(state.settings)


def read_settings(session: Session, org: str) -> tuple[RosterSettings, str]:
    """The roster's settings (the defaults until some are put) and their ETag."""
    state = _state(session, org)
    return _settings_of(state), etag("settings", state.settings_version if state is not None else 0)


def put_settings(session: Session, org: str, settings: RosterSettings, if_match: str | None) -> str:
    """Replace the settings (If-Match: their ETag); refused (422, field ``skills``) while a
    skill taken out is still held by a carer or needed by a client's call. Returns the new ETag."""
    state = hold(session, org)
    check_preconditions(etag("settings", state.settings_version), if_match, what="roster's settings")
    dropped = set(_settings_of(state).skills) - set(settings.skills)
    if dropped:
        users = [
            f"{ONE[kind]} {item.id} ({', '.join(sorted(set(_skills(item)) & dropped))})"
            for kind in KINDS
            for item in _entities_naming(session, org, kind, dropped)
            if set(_skills(item)) & dropped
        ]
        if users:
            more = f" and {len(users) - 10} more" if len(users) > 10 else ""
            raise InputError("skills", f"skills taken out are still needed: {', '.join(users[:10])}{more}")
    state.settings = settings.model_dump_json()
    state.settings_version = _next_version(state)
    return etag("settings", state.settings_version)


def _skills(item: RosterCarer | RosterClient) -> list[str]:
    if isinstance(item, RosterCarer):
        return item.skills
    return [name for call in item.package for name in call.skills]


# --- carers and clients ------------------------------------------------------------------------


def entities(
    session: Session, org: str, kind: Kind, after: str | None = None, limit: int | None = None
) -> list[RosterCarer | RosterClient]:
    """The roster's carers (or clients) in the order of their ids, those after ``after``."""
    row = ROWS[kind]
    query = select(row.data).where(row.org_id == org)
    if after is not None:
        query = query.where(row.id > after)
    datas = session.scalars(query.order_by(row.id).limit(limit))
    return [_parse(kind, data) for data in datas]


def _row(session: Session, org: str, kind: Kind, item_id: str) -> RosterCarerRow | RosterClientRow | None:
    if kind == "carers":
        return session.get(RosterCarerRow, (org, item_id), populate_existing=True)
    return session.get(RosterClientRow, (org, item_id), populate_existing=True)


def read_entity(session: Session, org: str, kind: Kind, item_id: str) -> tuple[RosterCarer | RosterClient, str]:
    """One carer (or client) and its ETag (``MissingEntity``, a 404, when there is none)."""
    row = _row(session, org, kind, item_id)
    if row is None:
        raise MissingEntity("id", f"no {ONE[kind]} {item_id!r} in the roster")
    return _parse(kind, row.data), etag(ONE[kind], row.version)


def put_entity(
    session: Session,
    org: str,
    kind: Kind,
    item: RosterCarer | RosterClient,
    if_match: str | None,
    if_none_match: str | None = None,
) -> tuple[str, bool]:
    """Add or replace a carer (or client), checked against the roster (422 naming the
    field: an undeclared skill, an unknown carer). Returns its new ETag and whether it
    was added."""
    state = hold(session, org)
    row = _row(session, org, kind, item.id)
    check_preconditions(
        etag(ONE[kind], row.version) if row is not None else None, if_match, if_none_match, what=ONE[kind]
    )
    _check_entity(session, org, state, item)
    version = _next_version(state)
    data = item.model_dump_json()
    if row is None:
        session.add(ROWS[kind](org_id=org, id=item.id, data=data, version=version, updated_at=utcnow()))
    else:
        row.data, row.version = data, version
    session.flush()
    return etag(ONE[kind], version), row is None


def _check_entity(session: Session, org: str, state: RosterState, item: RosterCarer | RosterClient) -> None:
    declared = set(_settings_of(state).skills)
    if isinstance(item, RosterCarer):
        for name in item.skills:
            if name not in declared:
                raise InputError("skills", f"unknown skill {name!r} (declare it in the roster's settings)")
        return
    for c, call in enumerate(item.package):
        for name in call.skills:
            if name not in declared:
                raise InputError(
                    f"package[{c}].skills", f"unknown skill {name!r} (declare it in the roster's settings)"
                )
    for field in ("preferred_carers", "banned_carers"):
        refs = getattr(item, field)
        known = set(_existing_ids(session, org, "carers", refs))
        for ref in refs:
            if ref not in known:
                raise InputError(field, f"unknown carer {ref!r} (not in the roster)")


def delete_entity(session: Session, org: str, kind: Kind, item_id: str, if_match: str | None) -> None:
    """Remove a carer (or client) (If-Match: its ETag). A carer a client still prefers or
    bans is not removed (``EntityInUse``, a 409 naming the clients)."""
    state = hold(session, org)
    row = _row(session, org, kind, item_id)
    if row is None:
        raise MissingEntity("id", f"no {ONE[kind]} {item_id!r} in the roster")
    check_preconditions(etag(ONE[kind], row.version), if_match, what=ONE[kind])
    if kind == "carers":
        naming = [
            client.id
            for client in _entities_naming(session, org, "clients", {item_id})
            if isinstance(client, RosterClient)
            and (item_id in client.preferred_carers or item_id in client.banned_carers)
        ]
        if naming:
            raise EntityInUse(
                "id",
                f"carer {item_id!r} is in the preferred or banned carers of client{'s' if len(naming) > 1 else ''} "
                f"{', '.join(naming)}: take them out of those lists first",
            )
    session.delete(row)
    _next_version(state)
    session.flush()


def _existing_ids(session: Session, org: str, kind: Kind, ids: Iterable[str]) -> list[str]:
    row = ROWS[kind]
    found: list[str] = []
    for chunk in _chunks(list(dict.fromkeys(ids))):
        found += session.scalars(select(row.id).where(row.org_id == org, row.id.in_(chunk))).all()
    return found


def _entities_naming(session: Session, org: str, kind: Kind, names: set[str]) -> Iterator[RosterCarer | RosterClient]:
    """The carers (clients) whose JSON holds any of ``names`` as a string: a cheap filter
    in SQL, the caller checks the fields that matter."""
    row = ROWS[kind]
    for name in names:
        text = to_json(name).decode()  # written as the stored JSON writes it (non-ASCII as it is)
        query = select(row.data).where(row.org_id == org, row.data.contains(text, autoescape=True)).order_by(row.id)
        for data in session.scalars(query):
            yield MODELS[kind].model_validate_json(data)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# --- the whole roster --------------------------------------------------------------------------


def load_roster(session: Session, org: str) -> Roster:
    """The organisation's roster, from its rows, checked whole by the library's ``Roster``
    (carers and clients in the order of their ids; an empty roster with the default
    settings when nothing is stored).

    Its carers and clients are parsed once per content and shared with other requests:
    treat them as read-only (``model_copy`` one to change it)."""
    carers = cast(list[RosterCarer], [_parse("carers", data) for data in _datas(session, org, "carers")])
    clients = cast(list[RosterClient], [_parse("clients", data) for data in _datas(session, org, "clients")])
    carers.sort(key=lambda carer: carer.id)  # the same order whatever the database's collation
    clients.sort(key=lambda client: client.id)
    return roster_with(_settings_of(_state(session, org)), carers, clients)


def has_roster(session: Session, org: str) -> bool:
    """Whether the organisation's roster has any carer (a week cannot be planned without)."""
    return session.scalar(select(RosterCarerRow.id).where(RosterCarerRow.org_id == org).limit(1)) is not None


def _parse(kind: Kind, data: str) -> RosterCarer | RosterClient:
    """A stored carer or client, parsed once per content (the key is the JSON itself, so a
    change, or a change rolled back, can never be served stale)."""
    return _parsed.get((kind, data), lambda: MODELS[kind].model_validate_json(data))


def _datas(session: Session, org: str, kind: Kind) -> list[str]:
    row = ROWS[kind]
    return list(session.scalars(select(row.data).where(row.org_id == org)))


class RosterCounts(BaseModel):
    """How many carers (or clients) an import added, replaced, removed or left as they were."""

    added: int = 0
    replaced: int = 0
    removed: int = 0
    unchanged: int = 0


class RosterChanges(BaseModel):
    """What an import changed."""

    carers: RosterCounts = Field(default_factory=RosterCounts)
    clients: RosterCounts = Field(default_factory=RosterCounts)
    settings_changed: bool = False
    version: int = Field(description="the roster's version after the import")


@dataclass(frozen=True)
class _Diff:
    added: list[str]
    replaced: list[str]
    removed: list[str]
    unchanged: int


def import_files(
    session: Session, org: str, files: dict[str, str], replace: bool, if_match: str | None = None
) -> tuple[RosterChanges, str]:
    """Read the roster's CSV files (``read_roster_csv``) onto the stored roster and write
    what changed, all or nothing: a ``RosterFilesError`` (422) names every problem and
    nothing is written. ``replace``: carers and clients not in the files are removed;
    otherwise added and replaced only. If-Match, when sent, must be the roster's ETag.
    Carers and clients the files leave as they were keep their ETags."""
    state = hold(session, org)
    if if_match is not None:
        check_preconditions(etag("roster", state.version), if_match, what="roster")
    base = load_roster(session, org)
    roster = read_roster_csv(files, base, replace=replace)
    diffs = {kind: _diff(getattr(base, kind), getattr(roster, kind)) for kind in KINDS}
    new_settings = settings_of(roster)
    settings_changed = new_settings != settings_of(base)
    changed = settings_changed or any(d.added or d.replaced or d.removed for d in diffs.values())
    if changed:
        version = _next_version(state)
        if settings_changed:
            state.settings, state.settings_version = new_settings.model_dump_json(), version
        for kind, diff in diffs.items():
            _write(session, org, kind, diff, getattr(roster, kind), version)
    counts = {
        kind: RosterCounts(added=len(d.added), replaced=len(d.replaced), removed=len(d.removed), unchanged=d.unchanged)
        for kind, d in diffs.items()
    }
    changes = RosterChanges(
        carers=counts["carers"], clients=counts["clients"], settings_changed=settings_changed, version=state.version
    )
    return changes, etag("roster", state.version)


def _diff(before: list[RosterCarer] | list[RosterClient], after: list[RosterCarer] | list[RosterClient]) -> _Diff:
    old = {item.id: item for item in before}
    new = {item.id: item for item in after}
    replaced = [key for key in new if key in old and new[key] != old[key]]
    return _Diff(
        added=[key for key in new if key not in old],
        replaced=replaced,
        removed=[key for key in old if key not in new],
        unchanged=sum(1 for key in new if key in old) - len(replaced),
    )


def _write(
    session: Session,
    org: str,
    kind: Kind,
    diff: _Diff,
    items: list[RosterCarer] | list[RosterClient],
    version: int,
) -> None:
    row = ROWS[kind]
    for chunk in _chunks(diff.removed + diff.replaced):
        session.execute(delete(row).where(row.org_id == org, row.id.in_(chunk)))
    written = set(diff.added) | set(diff.replaced)
    now = utcnow()
    values = [
        {"org_id": org, "id": item.id, "data": item.model_dump_json(), "version": version, "updated_at": now}
        for item in items
        if item.id in written
    ]
    for start in range(0, len(values), CHUNK):
        session.execute(insert(row), values[start : start + CHUNK])


def export_files(session: Session, org: str) -> tuple[dict[str, str], str]:
    """The roster as its CSV files (``roster_to_csv``) and the roster's ETag."""
    return roster_to_csv(load_roster(session, org)), roster_etag(session, org)
