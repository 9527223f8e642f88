from .audit import AuditEvent
from .base import Base
from .grade import Grade
from .ops import HolidayOverride, IndexJob, State
from .record import CreditRecord
from .subject import Subject

__all__ = ["AuditEvent", "Base", "CreditRecord", "Grade", "HolidayOverride", "IndexJob", "State", "Subject"]
