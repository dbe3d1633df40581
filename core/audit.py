"""Attribution of staff writes (CONTRACT.md section 8). Services call `record` inside their transaction,
so a write and its record commit together or not at all."""

from core.models import StaffAction


def record(by, action: str, target, **detail) -> None:
    """Log `action` on `target` by staff user `by` (None: a job or a command, not a person)."""
    user = by if by is not None and by.is_authenticated else None
    StaffAction.objects.create(user=user, action=action, target=str(target)[:100], detail=detail)
