"""Domain errors. Services raise these; the DRF exception handler turns them into 4xx JSON and
portal views into form errors or messages. A user never sees a 500 for bad input."""


class ApplicationError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    status_code = 400
    code = "invalid"


class NotFound(ApplicationError):
    """Also raised for objects of other organizations: their existence is not disclosed."""

    status_code = 404
    code = "not_found"


class PermissionDeniedError(ApplicationError):
    status_code = 403
    code = "permission_denied"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


class Gone(ApplicationError):
    status_code = 410
    code = "gone"
