"""The verifier's services: every decision lives here, routes only translate HTTP.

One concept per module: ``trust`` (the registry of institutions), ``verification``
(the core verifier plus trust, summaries and logging), ``challenges`` (single-use VC-API
challenges), ``dcql`` (what a presentation request asks and whether an answer matches),
``requests`` (OpenID4VP-shaped presentation requests), ``shares`` (share-link fetching),
``admissions`` (route rules over verified credentials), ``log`` (the verification log and
retention), ``container`` (wiring them together for one app).
"""
