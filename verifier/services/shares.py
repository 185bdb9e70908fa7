"""Share-link verification: fetch a learner's shared presentation safely, then verify it.

A share link is an unguessable URL at the learner's wallet that serves a presentation the
holder signed with ``domain`` = that very URL and a per-share ``challenge``. Pasting it
here must not turn the verifier into a request forgery tool, so the fetch goes through the
project's one outbound door (``SafeFetcher``: https only unless dev mode, no private or
metadata addresses, time and size caps). The presentation is then verified with the domain
set to the URL as pasted: a presentation lifted from one share link and served at another
URL fails the domain check, whatever its proof says.
"""

from __future__ import annotations

from typing import Any

from credentials import Check, FetchError, FetchHTTPError, MicrocredError, SafeFetcher

from .vcapi import parse_body
from .verification import VerificationResult, VerificationService, malformed, proof_challenge

CHECK_ID = "share_link"
KIND = "share"
MAX_URL = 2048


class ShareVerifier:
    def __init__(
        self, verification: VerificationService, fetcher: SafeFetcher, *, max_bytes: int
    ) -> None:
        self.verification = verification
        self.fetcher = fetcher
        self.max_bytes = max_bytes

    def verify(self, url: Any) -> VerificationResult:
        """Fetch the presentation behind a wallet's share link (through the safe fetcher) and
        verify it with the link as the proof's domain. Never raises for a bad link: an
        unusable URL or answer is a failed report with its own code (``invalid_share_url``,
        ``share_not_found``, ``share_fetch_failed``, ``share_not_a_presentation``).
        """
        if not isinstance(url, str) or not url.strip() or len(url.strip()) > MAX_URL:
            return self._refused("invalid_share_url", "url must be the share link (a URL)")
        url = url.strip()
        try:
            response = self.fetcher.get(url, accept="application/json")
        except FetchHTTPError as exc:
            if exc.status in (404, 410):
                return self._refused(
                    "share_not_found",
                    f"the share link answered HTTP {exc.status}: it was revoked, has expired "
                    "or never existed",
                )
            return self._refused("share_fetch_failed", exc.message)
        except FetchError as exc:
            return self._refused(exc.code, exc.message)
        try:
            document = parse_body(response.content, max_bytes=self.max_bytes)
        except MicrocredError as exc:
            return self._refused(
                "share_not_a_presentation", f"the share link did not return JSON: {exc.message}"
            )
        if isinstance(document, dict) and isinstance(document.get("verifiablePresentation"), dict):
            document = document["verifiablePresentation"]
        fetched = Check.passed(CHECK_ID, f"presentation fetched from {url}")
        return self.verification.verify_presentation(
            document,
            challenge=proof_challenge(document),
            domain=url,
            kind=KIND,
            extra_checks=[fetched],
        )

    def _refused(self, code: str, message: str) -> VerificationResult:
        result = malformed(KIND, code, message, check_id=CHECK_ID)
        self.verification.record(result)
        return result
