"""Moved to ``microcred.samples`` (shared with bench/); kept so that tests written against
the old path in parallel branches still import. New code: ``from microcred.samples import``."""

from microcred.samples import *  # noqa: F403
