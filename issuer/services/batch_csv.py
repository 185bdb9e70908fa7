"""Reading a cohort CSV: the format, and one report per row before anything is issued.

CSV format (UTF-8, optional BOM; comma, semicolon or tab separated; header row required,
column names case-insensitive, order free):

=================  ========================================================================
``email``           learner e-mail address (hashed into the credential)
``student_number``  learner student number (hashed into the credential)
``did``             holder DID (becomes ``credentialSubject.id``)
``grade``           result, e.g. ``8`` or ``7,5`` (checked against the module's scale)
``awarded_date``    ``2025-06-30`` or a date-time with zone; default: today
``result_status``   OB result status (Completed, Provisional, …)
``row_key``         what makes the row unique within the batch; default: student number,
                    else e-mail, else DID
=================  ========================================================================

At least one of ``email``, ``student_number`` and ``did`` per row. Unknown columns are
refused (a misspelt column would silently drop data).

Every row is validated here (learner identity, result against the module's grading scale
happens in :mod:`.batch`), so file-level problems reject the upload before anything is
stored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

from servicekit.errors import Invalid, ServiceError, TooLarge

from ..schemas import LearnerIn, ResultIn, validate

COLUMNS = ("email", "student_number", "did", "grade", "awarded_date", "result_status", "row_key")
IDENTITY_COLUMNS = ("email", "student_number", "did")
_RESULT_FIELDS = {"grade": "grade", "awarded_date": "awarded_date", "status": "result_status"}


@dataclass
class Row:
    line: int
    row_key: str
    learner: LearnerIn
    result: ResultIn | None
    row_hash: str


@dataclass
class RowReport:
    row: int
    row_key: str | None
    status: str
    """issued, already_issued, conflict, duplicate (asks for confirmation) or failed."""
    credential_id: str | None = None
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "row_key": self.row_key, "status": self.status}
        if self.credential_id:
            out["credential_id"] = self.credential_id
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    failed: list[RowReport] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.failed)


# --------------------------------------------------------------------------- parsing


def parse_csv(data: bytes, *, max_rows: int) -> Parsed:
    """Every row validated; a problem with the file itself is a 400 for the whole upload."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("csv_encoding", "the CSV file must be UTF-8") from None
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise Invalid("csv_empty", "the CSV file has no header row")
        columns = [cell.strip().lower().replace(" ", "_").replace("-", "_") for cell in header]
        unknown = [c for c in columns if c not in COLUMNS]
        if unknown:
            raise Invalid(
                "csv_unknown_column",
                f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
                + ", ".join(COLUMNS),
            )
        if len(set(columns)) != len(columns):
            raise Invalid("csv_duplicate_column", "a column appears twice")
        if not set(columns) & set(IDENTITY_COLUMNS):
            raise Invalid(
                "csv_missing_column",
                "the CSV needs at least one of the columns email, student_number, did",
            )
        parsed = Parsed()
        seen: set[str] = set()
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if parsed.total >= max_rows:
                raise TooLarge("batch_too_large", f"a batch may have at most {max_rows} rows")
            line = reader.line_num
            if len(values) != len(columns):
                parsed.failed.append(
                    _failed(line, None, "csv_row_shape", None, f"expected {len(columns)} fields")
                )
                continue
            row = _row(line, dict(zip(columns, (v.strip() for v in values), strict=True)))
            if isinstance(row, RowReport):
                parsed.failed.append(row)
            elif row.row_key in seen:
                parsed.failed.append(
                    _failed(line, row.row_key, "duplicate_row_key", "row_key", "seen earlier")
                )
            else:
                seen.add(row.row_key)
                parsed.rows.append(row)
    except csv.Error as exc:
        raise Invalid("csv_malformed", f"line {reader.line_num}: {exc}") from None
    if parsed.total == 0:
        raise Invalid("csv_empty", "the CSV file has no rows")
    return parsed


def _row(line: int, cells: dict[str, str]) -> Row | RowReport:
    learner_data = {k: cells[k] for k in IDENTITY_COLUMNS if cells.get(k)}
    result_data = {
        name: cells[column] for name, column in _RESULT_FIELDS.items() if cells.get(column)
    }
    try:
        learner = validate(LearnerIn, learner_data)
        result = validate(ResultIn, result_data) if result_data else None
    except ServiceError as exc:
        first = (exc.extra.get("errors") or [{}])[0]
        column = first.get("field", "")
        column = _RESULT_FIELDS.get(column, column)
        key = cells.get("row_key") or None
        return _failed(line, key, "invalid_row", column or None, first.get("message", exc.detail))
    row_key = cells.get("row_key") or learner.reference
    if len(row_key) > 200:
        return _failed(line, row_key[:200], "invalid_row", "row_key", "longer than 200")
    digest = hashlib.sha256(
        json.dumps(
            [learner.model_dump(), result.model_dump(mode="json") if result else None],
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return Row(line, row_key, learner, result, digest)


def _failed(
    line: int, row_key: str | None, code: str, column: str | None, message: str
) -> RowReport:
    error: dict[str, Any] = {"code": code, "message": message}
    if column:
        error["field"] = column
    return RowReport(line, row_key, "failed", error=error)
