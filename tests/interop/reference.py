"""Moved to ``interop/reference.py`` (beside the ref.mjs it drives, shared with bench/);
kept so that tests written against the old path in parallel branches still import."""

from interop.reference import *  # noqa: F403
