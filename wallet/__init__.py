"""The learner wallet: the learner holds, checks and shares their own microcredentials here.

The learner is the owner of this data, and the design starts from that: every credential,
share and route belongs to exactly one learner account and is invisible to every other
(an id from another account answers 404, never 403, so ids leak nothing); the holder key
is the learner's own, encrypted at rest; nothing is shared without an explicit step the
learner takes (a share link they create and can revoke, or a consent after a preview of
exactly what a verifier will receive); and the learner can export everything or delete it.

Layout: ``config`` (one settings object), ``main`` (the app factory), ``deps`` (FastAPI
dependencies), ``models`` (tables), ``services/`` (everything that decides something; the
pages reuse these), ``routes/`` (thin HTTP adapters), ``cli`` (operator commands),
``migrations/`` (Alembic).
"""
