"""Why a pipeline stops: each carries the error code recorded on the deployment."""


class StepFailed(Exception):
    """A step failed for a reason the user can act on; `message` says what to do."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Cancelled(Exception):
    """The user (or a newer deploy) asked the build to stop."""
