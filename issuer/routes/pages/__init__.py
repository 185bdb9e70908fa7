"""The issuer console: a registrar (studentenadministratie) works here in a browser.

Log in with an institution's API token; then manage the module catalogue, issue a module to
one learner (an OpenID4VCI offer shown as a QR code, or signed at once for an e-mail
address), issue to a whole cohort from a CSV file with a progress bar, look through what
was issued, and revoke or suspend a credential with a reason.

Every action calls the same service function the HTTP API calls (``services.modules``,
``offers``, ``issuance``, ``batch``, ``records``, ``status_lists``, ``audit``), under the
same scopes, with the token's id as the actor in the audit log. The pages add no logic of
their own beyond turning form fields into the API's input models (so a bad field gets the
API's field-by-field message) and results into templates.

The page session is the API token itself, sealed (AES-GCM, 8 hours) in an HttpOnly
cookie: the service has no session table, and sealing means a copied cookie expires and
never reveals the token. It is checked against the token table on every request, so a
revoked token ends the session at once.

Cohort batches run in a background thread of this process so the page can show progress
(``batch.run`` reports it through its ``progress`` callback); the job's state lives in
process memory. Behind a load balancer with several instances the progress page needs
sticky sessions; the batch itself stays idempotent and its report is in the audit log.
"""

from . import catalogue, cohort, deliveries, issued, issuing, public, session
from ._kit import NAV, router, web

router.include_router(public.api)

__all__ = [
    "NAV",
    "catalogue",
    "cohort",
    "deliveries",
    "issued",
    "issuing",
    "public",
    "router",
    "session",
    "web",
]
