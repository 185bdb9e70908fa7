"""Bitstring Status Lists: index allocation, status changes, the published list credential.

Allocation. Each credential gets one random free index of one of the institution's lists;
its revocation entry and its suspension entry point at that index in the list's two
bitstrings (``…/status/<list>/revocation`` and ``…/suspension``). Indexes are drawn with
the system CSPRNG (an index must not reveal the issue order) and claimed with
``INSERT … ON CONFLICT DO NOTHING`` on the (list, index) primary key, all of a batch's
claims in one statement: the database decides which of two processes drawing the same
index gets it, and the loser draws again. When random draws keep hitting used indexes the
list is nearly full; the free indexes are then listed exhaustively, and when none is left
the list is closed and a new one opened.

Status changes. A change first updates the credential row with a conditional ``UPDATE``
(so the transition rules hold under concurrency: a revoked credential cannot be
unsuspended into validity, revocation is never undone), then flips the bit with a
compare-and-set on the bitstring's ``version`` (and ``SELECT … FOR UPDATE`` on PostgreSQL).
A lost race re-reads and retries; no concurrent change is ever overwritten.

Publication. The list credential is signed on demand and cached in the row, keyed by the
bitstring version and the signing key generation: the first request after a change signs
it anew, so a revocation is visible at the list URL immediately. Every signed list carries
a validity window (``validUntil`` = signing time + ``status_list_validity``) and is
re-signed when less than half of it is left, on the request that notices: an old list an
attacker replays at the list's URL stops being accepted when its window closes (issue 14.5).

Signing key. Lists are signed with the institution's current key. Rotation writes the new
key into the DID document in the same transaction that makes it current, so the key is
published before its first use; verifiers that cached the document earlier re-fetch it
once when they meet the key (``credentials.dids``). See docs/design.md.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from sqlalchemy import and_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from credentials import STATUS_LIST_MIN_LENGTH as MIN_LENGTH
from credentials import StatusList, StatusPurpose, sign, status_entry, status_list_credential
from servicekit.db import rowcount
from servicekit.errors import Busy, Conflict, NotFound, Unprocessable

from ..models import Institution, IssuedCredential, StatusBitstring, StatusSlot
from ..models import StatusList as StatusListRow
from . import audit, keys, urls
from .context import IssuerContext

PURPOSES: tuple[StatusPurpose, ...] = ("revocation", "suspension")
_random = secrets.SystemRandom()


def _is_purpose(value: str) -> TypeGuard[StatusPurpose]:
    """A purpose taken from a URL path is one of ours (narrows ``str`` for the checker)."""
    return value in PURPOSES


_CHUNK = 500
_RANDOM_ROUNDS = 3


@dataclass(frozen=True)
class Slot:
    list_id: str
    index: int


# --------------------------------------------------------------------------- allocation


def allocate(
    ctx: IssuerContext, session: Session, institution: Institution, credential_ids: Sequence[str]
) -> dict[str, Slot]:
    """A random free slot for each credential id, claimed in ``session``'s transaction."""
    out: dict[str, Slot] = {}
    remaining = list(credential_ids)
    while remaining:
        status_list = _open_list(ctx, session, institution)
        out.update(_claim(ctx, session, status_list, remaining))
        remaining = [cid for cid in remaining if cid not in out]
        if remaining:
            session.execute(
                update(StatusListRow)
                .where(
                    col(StatusListRow.id) == status_list.id,
                    col(StatusListRow.full_at).is_(None),
                )
                .values(full_at=ctx.now())
            )
    return out


def entries(public_url: str, slug: str, slot: Slot) -> list[dict[str, Any]]:
    """The credential's two ``BitstringStatusListEntry`` objects for ``slot``."""
    return [
        status_entry(
            urls.status_list_url(public_url, slug, slot.list_id, purpose), slot.index, purpose
        )
        for purpose in PURPOSES
    ]


def claimed(
    session: Session, institution: Institution, credential_ids: Sequence[str]
) -> dict[str, Slot]:
    """Slots this institution already claimed for these credential ids (by an earlier,
    interrupted run). Credential ids are unique per institution only (H-9f)."""
    out: dict[str, Slot] = {}
    for start in range(0, len(credential_ids), _CHUNK):
        chunk = list(credential_ids[start : start + _CHUNK])
        for slot in session.exec(
            select(StatusSlot)
            .join(StatusListRow, col(StatusListRow.id) == col(StatusSlot.list_id))
            .where(
                StatusListRow.institution_id == institution.id,
                col(StatusSlot.credential_id).in_(chunk),
            )
        ).all():
            out[slot.credential_id] = Slot(slot.list_id, slot.status_index)
    return out


def release_claims(session: Session, claims: Sequence[tuple[str, Slot]]) -> None:
    """Give back these exact claims unless a stored credential uses the slot.

    Two runs of one batch at once compute the same credential ids; the run that loses a
    row must give back its own claim, never the winner's.
    """
    for credential_id, slot in claims:
        used = session.exec(
            select(IssuedCredential.id).where(
                IssuedCredential.credential_id == credential_id,
                IssuedCredential.status_list_id == slot.list_id,
                IssuedCredential.status_index == slot.index,
            )
        ).first()
        if used is not None:
            continue
        row = session.get(StatusSlot, (slot.list_id, slot.index))
        if row is not None and row.credential_id == credential_id:
            session.delete(row)


def _newest_open(session: Session, institution: Institution) -> StatusListRow | None:
    """The institution's newest list that still has room, if any."""
    return session.exec(
        select(StatusListRow)
        .where(
            StatusListRow.institution_id == institution.id,
            col(StatusListRow.full_at).is_(None),
        )
        .order_by(col(StatusListRow.created_at).desc())
        .limit(1)
    ).first()


def _open_list(ctx: IssuerContext, session: Session, institution: Institution) -> StatusListRow:
    row = _newest_open(session, institution)
    if row is not None:
        return row
    # No open list: take the institution's row lock (a no-op UPDATE: a row lock on
    # PostgreSQL, the write lock on SQLite) and look again, so that instances starting at
    # once share one new list instead of opening one each. Two instances opened 8 lists, 7
    # with a single credential: a list that small hides nobody (issue 14 item 10).
    session.execute(
        update(Institution).where(col(Institution.id) == institution.id).values(id=Institution.id)
    )
    row = _newest_open(session, institution)
    if row is not None:
        return row
    now = ctx.now()
    row = StatusListRow(
        id=secrets.token_hex(8),
        institution_id=institution.id,
        length=MIN_LENGTH,
        capacity=ctx.settings.status_list_capacity,
        created_at=now,
    )
    session.add(row)
    session.flush()  # the list row before its bitstrings (no ORM relationship orders them)
    empty = StatusList(MIN_LENGTH).encode()
    for purpose in PURPOSES:
        session.add(StatusBitstring(list_id=row.id, purpose=purpose, encoded_list=empty))
    session.flush()
    return row


def _claim(
    ctx: IssuerContext, session: Session, status_list: StatusListRow, credential_ids: list[str]
) -> dict[str, Slot]:
    """Claim a random free index of ``status_list`` for as many of the ids as it has room.

    Each id is offered a random index straight away and the database keeps the pairs whose
    index was free: in a list with room that is nearly all of them, in one round. When
    fewer than a quarter get theirs, the list is mostly full and guessing stops: the free
    indexes are listed exhaustively instead.
    """
    claimed: dict[str, Slot] = {}
    remaining = list(credential_ids)
    capacity = status_list.capacity
    for _ in range(_RANDOM_ROUNDS):
        if not remaining:
            return claimed
        draw = _random.sample(range(capacity), min(capacity, len(remaining)))
        got = _insert(ctx, session, status_list.id, list(zip(remaining, draw, strict=False)))
        claimed.update(got)
        remaining = [cid for cid in remaining if cid not in claimed]
        if len(got) < len(draw) // 4 + 1:
            break  # mostly full: stop guessing
    while remaining:
        used = set(
            session.exec(
                select(StatusSlot.status_index).where(StatusSlot.list_id == status_list.id)
            ).all()
        )
        free = [index for index in range(capacity) if index not in used]
        if not free:
            break
        _random.shuffle(free)
        got = _insert(ctx, session, status_list.id, list(zip(remaining, free, strict=False)))
        claimed.update(got)
        remaining = [cid for cid in remaining if cid not in claimed]
    return claimed


def _insert(
    ctx: IssuerContext, session: Session, list_id: str, pairs: list[tuple[str, int]]
) -> dict[str, Slot]:
    """Claim (credential, index) pairs; pairs whose index another process took are skipped.

    One short statement with a list of parameter sets (an ``executemany``: compiled and
    prepared once, the rows pipelined to the server) instead of a ``VALUES`` list with
    ``RETURNING``, whose SQL text grows with the rows and was compiled, and on PostgreSQL
    parsed by the driver, anew every time. The database's count of inserted rows says
    whether every pair got its index, the usual case; only when some did not are the
    indexes read back to see which.
    """
    if not pairs:
        return {}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = ctx.now()
    # SQLModel gives a table model its __table__ when the class is made; its type hints do
    # not declare the attribute
    table = StatusSlot.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["list_id", "status_index"])
        .execution_options(preserve_rowcount=True)
    )
    rows = [
        {"list_id": list_id, "status_index": index, "credential_id": cid, "created_at": now}
        for cid, index in pairs
    ]
    inserted = rowcount(session.execute(statement, rows))
    if inserted != len(pairs):
        owners = _owners(session, list_id, [index for _, index in pairs])
        pairs = [(cid, index) for cid, index in pairs if owners.get(index) == cid]
    return {cid: Slot(list_id, index) for cid, index in pairs}


def _owners(session: Session, list_id: str, indexes: list[int]) -> dict[int, str]:
    """Index → the credential id holding it, for those of ``indexes`` that are taken."""
    owners: dict[int, str] = {}
    for start in range(0, len(indexes), _CHUNK):
        chunk = indexes[start : start + _CHUNK]
        owners.update(
            session.execute(
                select(StatusSlot.status_index, StatusSlot.credential_id).where(
                    StatusSlot.list_id == list_id, col(StatusSlot.status_index).in_(chunk)
                )
            ).all()
        )
    return owners


# --------------------------------------------------------------------------- changes


class _Retry(Exception):
    """A conditional update lost a race; the whole transaction is tried again."""


def change(
    ctx: IssuerContext,
    institution: Institution,
    credential_id: str,
    targets: Sequence[str],
    *,
    actor: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """Apply ``targets`` (revoked / suspended / active) in order, atomically."""
    for _ in range(8):
        try:
            with ctx.db.session() as session:
                row = session.exec(
                    select(IssuedCredential).where(
                        IssuedCredential.credential_id == credential_id,
                        IssuedCredential.institution_id == institution.id,
                    )
                ).first()
                if row is None:
                    raise NotFound(
                        "unknown_credential", f"no credential {credential_id} was issued here"
                    )
                for target in targets:
                    _apply(ctx, session, row, target, actor, reason)
                    session.refresh(row)
                return state(row)
        except _Retry:
            continue
        except OperationalError as exc:
            # SQLite answers a write race with "database is locked"; try again.
            if "locked" not in str(exc).lower():
                raise
            continue
    raise Busy("status_busy", "the status list is busy; try again", headers={"Retry-After": "1"})


def _apply(
    ctx: IssuerContext,
    session: Session,
    row: IssuedCredential,
    target: str,
    actor: str,
    reason: str | None,
) -> None:
    now = ctx.now()
    table = IssuedCredential
    if target == "revoked":
        if row.revoked_at is not None:
            return
        done = session.execute(
            update(table)
            .where(col(table.id) == row.id, col(table.revoked_at).is_(None))
            .values(revoked_at=now, status_changed_at=now)
        )
        if rowcount(done) != 1:
            raise _Retry
        _set_bit(session, row.status_list_id, "revocation", row.status_index, 1)
        action = "credential.revoke"
    elif row.revoked_at is not None:
        raise Conflict(
            "credential_revoked",
            f"{row.credential_id} is revoked, and revocation is permanent",
        )
    elif target == "suspended":
        if row.suspended:
            return
        done = session.execute(
            update(table)
            .where(
                col(table.id) == row.id,
                col(table.revoked_at).is_(None),
                col(table.suspended).is_(False),
            )
            .values(suspended=True, status_changed_at=now)
        )
        if rowcount(done) != 1:
            raise _Retry
        _set_bit(session, row.status_list_id, "suspension", row.status_index, 1)
        action = "credential.suspend"
    elif target == "active":
        if not row.suspended:
            return
        done = session.execute(
            update(table)
            .where(
                col(table.id) == row.id,
                col(table.revoked_at).is_(None),
                col(table.suspended).is_(True),
            )
            .values(suspended=False, status_changed_at=now)
        )
        if rowcount(done) != 1:
            raise _Retry
        _set_bit(session, row.status_list_id, "suspension", row.status_index, 0)
        action = "credential.unsuspend"
    else:
        raise Unprocessable("validation_error", f"unknown status {target!r}")
    audit.record(
        session,
        row.institution_id,
        actor,
        action,
        now,
        credential_id=row.credential_id,
        reason=reason,
    )


def _set_bit(session: Session, list_id: str, purpose: str, index: int, value: int) -> None:
    table = StatusBitstring
    key = and_(col(table.list_id) == list_id, col(table.purpose) == purpose)
    for _ in range(20):
        current = session.execute(
            select(table.encoded_list, table.version).where(key).with_for_update()
        ).one()
        bits = StatusList.decode(current.encoded_list)
        bits.set(index, value)
        done = session.execute(
            update(table)
            .where(key, col(table.version) == current.version)
            .values(encoded_list=bits.encode(), version=current.version + 1)
        )
        if rowcount(done) == 1:
            return
    raise _Retry


def state(row: IssuedCredential) -> dict[str, Any]:
    """A credential's status as the API reports it: revoked, suspended, and one word."""
    return {
        "credentialId": row.credential_id,
        "revoked": row.revoked_at is not None,
        "suspended": row.suspended,
        "status": "revoked" if row.revoked_at else ("suspended" if row.suspended else "active"),
    }


# --------------------------------------------------------------------------- publication


@dataclass(frozen=True)
class Published:
    body: str
    etag: str


def published(
    ctx: IssuerContext, institution: Institution, list_id: str, purpose: str
) -> Published:
    """The signed BitstringStatusListCredential for one list and purpose."""
    if not _is_purpose(purpose):
        raise NotFound("unknown_status_list", f"no {purpose} list {list_id}")
    with ctx.db.session() as session:
        owner = session.get(StatusListRow, list_id)
        if owner is None or owner.institution_id != institution.id:
            raise NotFound("unknown_status_list", f"no status list {list_id}")
        row = session.get(StatusBitstring, (list_id, purpose))
        assert row is not None
        key_row = keys.current_key_row(session, institution)
        now = ctx.now()
        if (
            row.signed_json is not None
            and row.signed_version == row.version
            and row.signed_key == key_row.generation
        ):
            until = _valid_until(row.signed_json)
            if until is not None and until - now > _refresh_margin(ctx):
                return Published(row.signed_json, _etag(list_id, purpose, row, key_row, until))
        key = keys.load_key(ctx, institution, key_row)
        url = urls.status_list_url(ctx.settings.public_url, institution.slug, list_id, purpose)
        until = now + timedelta(seconds=ctx.settings.status_list_validity)
        document = status_list_credential(
            url,
            urls.institution_did(ctx.settings.public_url, institution.slug),
            purpose,
            row.encoded_list,
            valid_from=now,
            valid_until=until,
            ttl_ms=ctx.settings.status_max_age * 1000,
        )
        body = json.dumps(sign(document, key, created=now), separators=(",", ":"))
        # Cache only if nobody changed a bit meanwhile (then the next reader signs anew).
        session.execute(
            update(StatusBitstring)
            .where(
                col(StatusBitstring.list_id) == list_id,
                col(StatusBitstring.purpose) == purpose,
                col(StatusBitstring.version) == row.version,
            )
            .values(signed_json=body, signed_version=row.version, signed_key=key_row.generation)
        )
        return Published(body, _etag(list_id, purpose, row, key_row, _valid_until(body)))


def _refresh_margin(ctx: IssuerContext) -> timedelta:
    """A signed list is re-signed once less than half its validity is left (and never
    served with less left than a cache may keep it)."""
    half = ctx.settings.status_list_validity / 2
    return timedelta(seconds=max(half, ctx.settings.status_max_age))


def _valid_until(body: str) -> datetime | None:
    """The ``validUntil`` of a signed list body (None: signed before lists had one)."""
    try:
        value = json.loads(body).get("validUntil")
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except (ValueError, AttributeError):
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _etag(
    list_id: str,
    purpose: str,
    row: StatusBitstring,
    key_row: Any,
    until: datetime | None,
) -> str:
    # the validity is part of the tag: a re-signed list (same bits, new window) is new
    stamp = int(until.timestamp()) if until is not None else 0
    return f'W/"{list_id}-{purpose}-{row.version}-{key_row.generation}-{stamp}"'
