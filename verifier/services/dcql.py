"""The DCQL side of presentation requests moved to the core (``credentials.dcql``), where the
issuer's recognition requests use it too; kept importable here for the verifier's modules."""

from credentials.dcql import *  # noqa: F403
from credentials.dcql import __all__  # noqa: F401
