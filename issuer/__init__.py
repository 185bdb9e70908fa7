"""The issuer service: institutions sign microcredentials for their modules here.

One deployment serves several institutions (as edubadges serves many), each with its own
did:web identity, signing keys (encrypted at rest), API tokens, module catalogue, status
lists and audit log. Credentials leave the service three ways: over VC-API to a student
information system, as a batch from a CSV file, and over OpenID4VCI (pre-authorised code
flow, offer as a QR code) into a learner's wallet. Revocation and suspension are published
as Bitstring Status Lists signed by the institution.

Layout: ``config`` (one settings object), ``main`` (the app factory), ``deps`` (FastAPI
dependencies), ``models`` (tables), ``schemas`` (API input and output models),
``services/`` (everything that decides something), ``routes/`` (thin HTTP adapters),
``cli`` (operator commands), ``migrations/`` (Alembic).
"""
