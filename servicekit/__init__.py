"""What the three services share as web services (not as credential logic): problem details,
database engines and migrations, app hardening, QR images, opaque tokens.

It sits beside ``credentials`` (which must stay free of FastAPI and databases) and below the
services, so that issuer, wallet and verifier do not copy each other's plumbing while still
never importing one another.
"""
