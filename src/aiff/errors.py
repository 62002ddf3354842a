"""One root for every AIFF error; permanent ones dead-letter, transient ones retry."""

from __future__ import annotations


class AiffError(Exception):
    """Root of AIFF's errors. `status` is the HTTP status the API answers with."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class PermanentError(AiffError):
    """Retrying cannot help: the input itself is wrong. Consumers dead-letter it and carry on."""

    status = 422
    code = "invalid"


class ContractViolation(PermanentError):
    """An event that is not valid JSON, has an unknown type, or fails its schema."""

    code = "contract_violation"


class UnknownEntity(PermanentError):
    """An event or request refers to a ticket, team or zone that does not exist."""

    status = 404
    code = "not_found"


class RuleViolation(PermanentError):
    """A business rule refuses the change (lifecycle, capacity, double booking)."""

    status = 409
    code = "conflict"


class StaleDecision(RuleViolation):
    """A decision or command of one of AIFF's own components that the world overtook: the ticket changed between the
    decision and its event (assigned after a cancellation, released after a reassignment). No bad input, so it is
    recorded in the ticket's history and counted, never dead-lettered (see `projections.fold`)."""

    code = "stale_decision"


class DuplicateIdConflict(RuleViolation):
    """An event id that was already applied arrived again with different content (an exact redelivery is no error)."""

    code = "duplicate_id_conflict"


class TransientError(AiffError):
    """The world is temporarily unavailable (database, broker, timeout): retry with backoff, then stop loudly."""

    status = 503
    code = "unavailable"
