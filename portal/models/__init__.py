from .api_client import ApiClient, ApiIdempotency, ApiToken
from .audit import AuditEvent, AuditFailureCount, AuditHead
from .auth import LoginBinding, WebSession
from .authorisation import Authorisation, Report
from .base import Base
from .case import Case, CaseDocument, CaseEvent, Evidence, Notification, StaffUser
from .draw import Draw, DrawConflict, DrawInspector, DrawItem  # noqa: F401 (双随机 draws)
from .grade import Grade, GradingCycle, GradingExclusion, GradingResult
from .import_staging import ImportStaging
from .notify import NoticeOutbox, NotifyContact, NotifyContactSubject
from .ops import HolidayOverride, IndexCursor, IndexJob, State
from .plate import Plate, PlateScanDay
from .provision import ProviderUpload, RecordDraft
from .public_notice import PublicNotice, PublicNoticeLink
from .record import CreditRecord
from .search_open import SearchOpenDay
from .subject import Subject
from .supervision import (  # noqa: F401 (issue 16: lists, warnings, commitments)
    Commitment,
    Complaint,
    EarlyWarning,
    ListCase,
    ListDocument,
    ListEvent,
    SelfDeclaration,
)
from .throttle import LoginThrottle

__all__ = ["ApiClient", "ApiIdempotency", "ApiToken", "AuditEvent", "AuditHead", "AuditFailureCount", "Authorisation", "Report", "Base", "CreditRecord", "Grade", "GradingCycle", "GradingExclusion", "GradingResult", "HolidayOverride", "ImportStaging", "IndexCursor", "IndexJob", "State", "Subject",
           "LoginBinding", "WebSession", "Plate", "PlateScanDay", "SearchOpenDay",
           "Case", "CaseDocument", "CaseEvent", "Evidence", "Notification", "StaffUser", "LoginThrottle",
           "NoticeOutbox", "NotifyContact", "PublicNotice", "PublicNoticeLink", "NotifyContactSubject",
           "ProviderUpload", "RecordDraft"]
