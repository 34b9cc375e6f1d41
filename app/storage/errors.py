"""Errors of the storage layer, in words a user can act on."""


class StorageError(Exception):
    """Object storage refused or could not be reached; the message says which."""


class PublishCancelled(Exception):
    """The deployment was cancelled while its files were being uploaded."""
