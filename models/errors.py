"""Errors raised by the pure core.

    FirestormModelError
     ├── WatchlistError     the watchlist YAML is invalid (names entity, field, fix)
     ├── ParamsError        a detector parameter is unknown or out of range (names field, fix)
     ├── ModelArtefactError a model artefact is missing, corrupt or of another version
     └── LabelError         a labels file is invalid (names line, field, fix)

Bad *input data* is never an exception here: a malformed mention is a
:class:`models.mention.Rejection` value.
"""

__all__ = ["FirestormModelError", "LabelError", "ModelArtefactError", "ParamsError",
           "WatchlistError"]


class FirestormModelError(Exception):
    """Base of every error the pure core raises."""


class WatchlistError(FirestormModelError, ValueError):
    """The watchlist is invalid; the message says where and how to fix it."""


class ParamsError(FirestormModelError, ValueError):
    """A detector parameter is wrong; the message names the field and the fix."""


class ModelArtefactError(FirestormModelError):
    """A model artefact cannot be loaded; retrain or reinstall it."""


class LabelError(FirestormModelError, ValueError):
    """A labels file (storms, benign episodes, background spans) is invalid; says where."""
