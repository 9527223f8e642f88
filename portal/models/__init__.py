from .audit import AuditEvent
from .auth import LoginBinding, WebSession
from .authorisation import Authorisation, Report
from .base import Base
from .case import Case, CaseDocument, CaseEvent, Evidence, Notification, StaffUser
from .grade import Grade
from .import_staging import ImportStaging
from .ops import HolidayOverride, IndexJob, State
from .plate import Plate, PlateScanDay
from .record import CreditRecord
from .subject import Subject

__all__ = ["AuditEvent", "Authorisation", "Report", "Base", "CreditRecord", "Grade", "HolidayOverride", "ImportStaging", "IndexJob", "State", "Subject",
           "LoginBinding", "WebSession", "Plate", "PlateScanDay",
           "Case", "CaseDocument", "CaseEvent", "Evidence", "Notification", "StaffUser"]
