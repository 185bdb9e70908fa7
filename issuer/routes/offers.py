"""Creating and following OpenID4VCI offers (the institution's side)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import Issuer, JsonBody, Member, ServicesDep
from ..schemas import OfferIn, validate
from ..services import offers

router = APIRouter(tags=["offers"])


@router.post("/institutions/{slug}/offers", status_code=201)
def create_offer(ctx: ServicesDep, principal: Issuer, body: JsonBody) -> dict[str, Any]:
    """An offer for a pending issuance: offer URIs (by reference and by value), QR image
    URLs, and the PIN when one was asked for (shown only in this answer)."""
    request = validate(OfferIn, body)
    return offers.create(ctx, principal.institution, request, actor=principal.actor)


@router.get("/institutions/{slug}/offers/{offer_id}")
def get_offer(ctx: ServicesDep, principal: Member, offer_id: str) -> dict[str, Any]:
    return offers.get(ctx, principal.institution, offer_id)


@router.delete("/institutions/{slug}/offers/{offer_id}")
def cancel_offer(ctx: ServicesDep, principal: Issuer, offer_id: str) -> dict[str, Any]:
    return offers.cancel(ctx, principal.institution, offer_id, actor=principal.actor)
