"""The verifier service: employers and admissions offices check microcredentials here.

It wraps the credential core's ``Verifier`` in VC-API endpoints, adds the parts that are a
verifier's own policy (a trust registry of accredited institutions, single-use challenges
and presentation-request nonces enforced by the database, share-link fetching, admission
rules over verified credentials) and keeps a privacy-preserving verification log.

Layout: ``config`` (one settings object), ``main`` (the app factory), ``deps`` (FastAPI
dependencies), ``models`` (tables), ``services/`` (everything that decides something),
``routes/`` (thin HTTP adapters), ``cli`` (admin commands), ``migrations/`` (Alembic).
"""
