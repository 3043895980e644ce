"""The five roles of the product. A user can hold several."""

APPLICANT = "applicant"
EVALUATOR = "evaluator"
PROGRAMME_OFFICER = "programme_officer"
FINANCE_OFFICER = "finance_officer"
ADMIN = "admin"

#: Every role, with the sentence shown to admins when they grant it.
ROLES: dict[str, str] = {
    APPLICANT: "Member of a diaspora association: applies for grants and reports on them",
    EVALUATOR: "Committee member: scores applications against the call's rubric",
    PROGRAMME_OFFICER: "Runs calls, screening, decisions, grants and reports",
    FINANCE_OFFICER: "Approves and records disbursements under four-eyes rules",
    ADMIN: "Manages users, roles and settings",
}
ROLE_NAMES = tuple(ROLES)
