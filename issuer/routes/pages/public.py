"""What the issuer shows to anyone, logged in or not: the status notice a learner's wallet
reads, and the institution's own page for people who follow its link from a credential.

The status notice is an API (JSON, problem+json on errors), so it lives on a plain
``APIRouter`` of its own that the page router includes; the institution page is a page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from servicekit.errors import ServiceError, http_status
from servicekit.problems import problem_response

from ...deps import PublicInstitution
from ...models import Institution
from ...services import institutions, modules, notices
from ...services import module_images as images
from ...services.context import IssuerContext
from ._kit import _render, web

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


def wants_html(request: Request) -> bool:
    """A browser following a link (``Accept: text/html`` before any JSON type)."""
    accept = request.headers.get("accept", "").lower()
    if "text/html" not in accept:
        return False
    json_at = min(
        (accept.find(t) for t in ("application/json", "+json") if t in accept), default=-1
    )
    return json_at < 0 or accept.find("text/html") < json_at


def institution_page(request: Request, institution: Institution) -> Response:
    """The institution as people see it: name, DID, registrations, quality assurance and
    the modules it awards, in the site's design (JSON clients get the JSON)."""
    ctx: IssuerContext = request.app.state.issuer
    t = web.translator(request)
    listed = modules.listing(ctx, institution)
    assurance: dict[str, str | None] = {}
    for module in listed:
        qa = module.get("quality_assurance") or {}
        if qa.get("name"):
            assurance.setdefault(str(qa["name"]), qa.get("url"))
    response: Response = _render(
        request,
        None,
        "institution.html",
        page_title=institution.name,
        profile=institutions.public(ctx, institution),
        country=t(f"country.{institution.country_code}")
        if t.has(f"country.{institution.country_code}")
        else institution.country_code,
        assurance=sorted(assurance.items()),
        listed=listed,
        images=images.paths_for(ctx, institution, [m["id"] for m in listed]),
    )
    response.headers["Vary"] = "Accept"
    return response


IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Access-Control-Allow-Origin": "*",
}


@api.get("/institutions/{slug}/modules/{module}/image.png")
def module_image(request: Request, institution: PublicInstitution, module: str) -> Response:
    """A module's badge image, re-encoded as PNG at upload; wallets and verifiers of any
    origin may show it (``Cross-Origin-Resource-Policy: cross-origin``)."""
    ctx: IssuerContext = request.app.state.issuer
    try:
        row = images.load(ctx, institution, module)
    except ServiceError as exc:
        return problem_response(http_status(exc), exc.code, exc.detail, headers=IMAGE_HEADERS)
    etag = f'"{row.digest[:32]}"'
    headers = {**IMAGE_HEADERS, "ETag": etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(row.data, media_type="image/png", headers=headers)
