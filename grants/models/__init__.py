"""SQLAlchemy models, one module per aggregate. Importing this registers them all."""

from sqlalchemy.orm import joinedload

from grants.models.accounts import ApiToken, Passkey, Role, StaffInvitation, User, user_roles
from grants.models.applications import (
    Application,
    BudgetLine,
    CoFinancing,
    Partner,
    TeamMember,
)
from grants.models.associations import Association, Invitation, Membership
from grants.models.audit import AuditRow
from grants.models.awards import (
    Award,
    BankDetailsChange,
    LedgerEntry,
    Report,
    Tranche,
    TrancheApproval,
)
from grants.models.bulk_actions import BulkItem, BulkRun
from grants.models.calls import Call, Criterion, DocumentType
from grants.models.conversations import Message, Thread, ThreadRead
from grants.models.documents import Document
from grants.models.duplicates import DuplicateProfile, DuplicateVerdict
from grants.models.history import HistoryEntry
from grants.models.letters import IssuedLetter
from grants.models.notifications import (
    JobRun,
    Notification,
    NotificationPreference,
    Reminder,
    ScheduledJob,
    SchedulerLease,
)
from grants.models.payments import (
    BankStatement,
    DebtorAccount,
    PaymentFile,
    PaymentFileItem,
    StatementLine,
)
from grants.models.privacy import DataExport
from grants.models.questions import Answer, Question, QuestionSection, QuestionSet
from grants.models.reviews import ConflictDeclaration, Decision, Review, Score
from grants.models.search import SearchEntry
from grants.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookSubscription

#: How the person making a request is loaded: with their roles and memberships (and
#: each membership's association), in the one statement that finds them.
PERSON = (joinedload(User.roles), joinedload(User.memberships))

__all__ = [
    "SearchEntry",
    "PERSON",
    "ApiToken",
    "Passkey",
    "StaffInvitation",
    "Answer",
    "Application",
    "Question",
    "QuestionSection",
    "QuestionSet",
    "Association",
    "AuditRow",
    "Award",
    "BulkItem",
    "BulkRun",
    "BankDetailsChange",
    "BankStatement",
    "DebtorAccount",
    "PaymentFile",
    "PaymentFileItem",
    "StatementLine",
    "BudgetLine",
    "Call",
    "CoFinancing",
    "DataExport",
    "ConflictDeclaration",
    "Criterion",
    "Decision",
    "Document",
    "Message",
    "Thread",
    "ThreadRead",
    "DuplicateProfile",
    "DuplicateVerdict",
    "DocumentType",
    "HistoryEntry",
    "Invitation",
    "IssuedLetter",
    "Membership",
    "JobRun",
    "LedgerEntry",
    "Notification",
    "NotificationPreference",
    "Reminder",
    "ScheduledJob",
    "SchedulerLease",
    "Partner",
    "Report",
    "Review",
    "Role",
    "Score",
    "TeamMember",
    "Tranche",
    "TrancheApproval",
    "User",
    "user_roles",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookSubscription",
]
