"""SD-JWT VC (``dc+sd-jwt``): the second credential format, for EU Digital Identity wallets.

* :mod:`.jose` – compact JWS on joserfc (ES256/ES384/EdDSA only);
* :mod:`.core` – SD-JWT: disclosures, presentation, KB-JWT, reconstruction;
* :mod:`.status` – IETF Token Status List (``statuslist+jwt``);
* :mod:`.vc` – SD-JWT VC: the microcredential claims, ``vct`` and type metadata, issuer key
  resolution (``/.well-known/jwt-vc-issuer``, ``x5c``, DID) and verification as a
  :class:`~credentials.report.VerificationReport`.
"""
