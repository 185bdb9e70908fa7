"""What a case holds about a learner, sealed under the KEK (as offers are, H-9d).

The presentation, the learner's identifiers, the verification reports and the case
token's plain value are personal or secret; a copy of the database must not show them. The
associated data names the case, so a sealed value cannot be moved to another case.
"""

from __future__ import annotations

import json
from typing import Any

from ..context import IssuerContext

SEALED = "sealed"


def _aad(case_id: str) -> str:
    return f"microcred-issuer:recognition-case:{case_id}"


def seal(ctx: IssuerContext, case_id: str, data: dict[str, Any]) -> dict[str, str]:
    plain = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return {SEALED: ctx.keystore.wrap(plain, _aad(case_id))}


def unseal(ctx: IssuerContext, case_id: str, stored: dict[str, Any] | None) -> dict[str, Any]:
    if not stored:
        return {}
    data = json.loads(ctx.keystore.unwrap(stored[SEALED], _aad(case_id)))
    assert isinstance(data, dict)
    return data
