"""Thin HTTP adapters: parse the request, call a service, return its answer.

No queries and no decisions here; the pages (``pages.py``) call the same services.
"""
