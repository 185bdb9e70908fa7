"""Everything the issuer decides, independent of HTTP: the routes and the CLI both call
these functions, so a rule (a scope, a status transition, a batch row's fate) is written
once. Each function that changes something takes the ``IssuerContext`` and opens its own
transaction, so a failure anywhere leaves nothing behind."""
