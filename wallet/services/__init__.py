"""Everything in the wallet that decides something; routes and pages only adapt HTTP to these.

Each module is one concept: ``accounts`` (learners, passwords, tokens), ``keys`` (the
holder key), ``checking`` (verification on arrival and status re-checks), ``store``
(browsing and reading stored credentials), ``elements`` (the EU elements in plain
language), ``receiving`` + ``openid4vci`` (receiving), ``progress`` (learning-route
progress), ``shares`` (share links and their access log), ``requests`` + ``openid4vp``
(answering a verifier; DCQL matching is the core's ``credentials.dcql``), ``disclosing``
(ecdsa-sd-2023 selective disclosure), ``sdjwt`` (SD-JWT VC), ``portability`` (export,
import, delete), ``clock`` and ``errors``. ``container`` builds them all from the
settings.
"""
