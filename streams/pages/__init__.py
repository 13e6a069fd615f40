"""Incident timeline pages for comms leads: a small web process apart from the worker.

``firestorm pages`` serves them (:mod:`streams.commands.pages`); see
``docs/pages.md``. :func:`build_pages_app` is the whole application.
"""

from streams.pages.app import build_pages_app

__all__ = ["build_pages_app"]
