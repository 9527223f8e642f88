from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a message fit to show the user (Chinese), and the field it concerns."""

    def __init__(self, message: str, field: str = "", status: int = 400):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
