"""What the issuer shows to anyone, logged in or not: the status notice a learner's wallet
reads, and the institution's own page for people who follow its link from a credential.

The status notice is an API (JSON, problem+json on errors), so it lives on a plain
``APIRouter`` of its own that the page router includes; the institution page is a page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from servicekit.errors import ServiceError, http_status
from servicekit.problems import problem_response

from ...services import notices

api = APIRouter(tags=["status"])


@api.get("/credentials/status-notice")
def status_notice(request: Request, id: str = "") -> Any:
    """Status, reason and date of a credential issued here, for the learner's wallet.

    Public by design: whoever holds the credential knows its id and may read why it was
    revoked or suspended (see ``services/notices.py`` for the privacy reasoning).
    """
    headers = {"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"}
    try:
        body = notices.status_notice(request.app.state.issuer, id.strip())
    except ServiceError as exc:
        answer = problem_response(http_status(exc), exc.code, exc.detail)
        answer.headers.update(headers)
        return answer
    return JSONResponse(body, headers=headers)
