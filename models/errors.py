"""Errors raised by the pure core.

    FirestormModelError
     ├── WatchlistError     the watchlist YAML is invalid (names entity, field, fix)
     ├── ModelArtefactError a model artefact is missing, corrupt or of another version
     └── LabelError         a labels file is invalid (names line, field, fix)

Bad *input data* is never an exception here: a malformed mention is a
:class:`models.mention.Rejection` value.
"""

__all__ = ["FirestormModelError", "LabelError", "ModelArtefactError", "WatchlistError"]


class FirestormModelError(Exception):
    """Base of every error the pure core raises."""


class WatchlistError(FirestormModelError, ValueError):
    """The watchlist is invalid; the message says where and how to fix it."""


class ModelArtefactError(FirestormModelError):
    """A model artefact cannot be loaded; retrain or reinstall it."""


class LabelError(FirestormModelError, ValueError):
    """A labels file (storms, benign episodes, background spans) is invalid; says where."""
