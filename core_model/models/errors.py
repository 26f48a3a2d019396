"""The model manager's errors. Each message is meant for the user as it is; all are ``ModelsError`` (kind "models")."""

from __future__ import annotations

from core_model.errors import ModelsError


class ModelManagerError(ModelsError):
    """A model could not be listed, fetched, imported or removed."""


class UnknownModelError(ModelManagerError):
    pass


class NotDownloadableError(ModelManagerError):
    """The model is built locally (e.g. Video-LLaMA): the message says how."""


class GatedModelError(ModelManagerError):
    """The hub wants the user to accept terms (or log in) first: the message says what and where."""


class InsufficientDiskSpaceError(ModelManagerError):
    pass


class IntegrityError(ModelManagerError):
    """A downloaded file does not match the hub's size or hash; it was deleted."""


class DownloadCancelled(ModelManagerError):
    """The user cancelled; what was fetched so far is kept and the next pull resumes from it."""


class InvalidModelFolderError(ModelManagerError):
    pass


class UnsafeListingError(ModelManagerError):
    """The hub (or a mirror) listed a file name or hash that would put a file outside the model's snapshot folder
    (``../``, an absolute path, a drive letter): nothing of the pull was written or deleted."""
