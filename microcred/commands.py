"""Registers the services' sub-commands on the ``microcred`` app (imported by ``main``)."""
