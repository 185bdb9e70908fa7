"""Every public URL and identifier the issuer mints, derived from ``settings.public_url``.

They end up inside signed credentials (issuer DID, achievement ids, status list URLs), so
they are built in one place: changing the public URL changes every one of them, and
credentials issued before such a change keep pointing at the old ones.
"""

from __future__ import annotations

from urllib.parse import quote

from credentials import did_web_from_url


def institution_base(public_url: str, slug: str) -> str:
    """The institution's base URL, which is also its OpenID4VCI credential issuer id."""
    return f"{public_url}/institutions/{slug}"


def institution_did(public_url: str, slug: str) -> str:
    """``did:web:<host%3Aport>:institutions:<slug>`` (DID document at ``…/did.json``)."""
    return did_web_from_url(public_url, "institutions", slug)


def verification_method(public_url: str, slug: str, generation: int) -> str:
    """The id of the institution's key ``generation`` in its DID document."""
    return f"{institution_did(public_url, slug)}#key-{generation}"


def module_url(public_url: str, slug: str, module_slug: str) -> str:
    """The achievement ``id``: a module's stable identity in every credential."""
    return f"{institution_base(public_url, slug)}/modules/{quote(module_slug)}"


def status_list_url(public_url: str, slug: str, list_id: str, purpose: str) -> str:
    """Where the status list credential ``list_id`` for ``purpose`` is published."""
    return f"{institution_base(public_url, slug)}/status/{list_id}/{purpose}"


def offer_url(public_url: str, slug: str, handle: str) -> str:
    """Where a wallet fetches the offer JSON (``credential_offer_uri``)."""
    return f"{institution_base(public_url, slug)}/credential-offers/{handle}"
