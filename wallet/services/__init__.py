"""Everything in the wallet that decides something; routes and pages only adapt HTTP to these.

Each module is one concept: ``accounts`` (learners, passwords, tokens), ``keys`` (the
holder key), ``checking`` (verification on arrival and status re-checks), ``store``
(browsing and reading stored credentials), ``elements`` (the EU elements in plain
language), ``offers`` + ``openid4vci`` (receiving), ``routes`` (learning-route progress),
``shares`` (share links and their access log), ``requests`` + ``openid4vp`` + ``dcql``
(answering a verifier), ``portability`` (export, import, delete). ``container`` builds
them all from the settings.
"""
