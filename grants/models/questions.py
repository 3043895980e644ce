"""Questions of a call's own, asked after the fixed parts of the application form.

A call's questions are kept in versions (``QuestionSet``): once applications have been
submitted on a version, a change that could invalidate their answers makes a new one,
and each application keeps the version it answered. A question keeps its ``key`` from
version to version, so that exports, criteria and conditions follow it across versions.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.calls import Call, Translated
from grants.orm import utcnow

QUESTION_KINDS = (
    "short_text",
    "long_text",
    "whole_number",
    "amount",
    "date",
    "one_choice",
    "several_choices",
    "yes_no",
    "country",
    "file",
)
#: Kinds whose answer is one of the question's options.
CHOICE_KINDS = ("one_choice", "several_choices")


class QuestionSet(db.Model):
    """One version of a call's questions."""

    __tablename__ = "question_sets"
    __table_args__ = (UniqueConstraint("call_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[Call] = relationship()
    sections: Mapped[list[QuestionSection]] = relationship(
        back_populates="question_set",
        cascade="all, delete-orphan",
        order_by="QuestionSection.position",
    )

    @property
    def questions(self) -> list[Question]:
        """Every question of the version, in the order the applicant reads them."""
        return [question for section in self.sections for question in section.questions]


class QuestionSection(Translated, db.Model):
    """A titled group of questions, shown as one part of the form."""

    __tablename__ = "question_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_set_id: Mapped[int] = mapped_column(
        ForeignKey("question_sets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    question_set: Mapped[QuestionSet] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section",
        cascade="all, delete-orphan",
        order_by="Question.position",
    )

    @property
    def language(self) -> str:  # type: ignore[override]
        return self.question_set.call.language


class Question(Translated, db.Model):
    """One question: its kind, texts per language, limits, options and condition."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('short_text', 'long_text', 'whole_number', 'amount', 'date', "
            "'one_choice', 'several_choices', 'yes_no', 'country', 'file')",
            name="kind_known",
        ),
        CheckConstraint("max_words IS NULL OR max_words > 0", name="max_words_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("question_sections.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    #: Stays the same from version to version of the call's questions.
    key: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    help: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    required: Mapped[bool] = mapped_column(default=False)
    #: Its answer could name the association: evaluators of a blind call never read it.
    identifying: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Long texts: at most this many words.
    max_words: Mapped[int | None]
    #: Numbers and amounts: the smallest and largest answers accepted.
    minimum: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    maximum: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    #: Choices: [{"value": "a1b2", "label": {lang: text}}].
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Asked only when the earlier question ``condition_key`` was answered ``condition_value``.
    condition_key: Mapped[str | None] = mapped_column(String(32))
    condition_value: Mapped[str | None] = mapped_column(String(100))

    section: Mapped[QuestionSection] = relationship(back_populates="questions")

    @property
    def language(self) -> str:  # type: ignore[override]
        return self.section.language

    @property
    def field_name(self) -> str:
        """The name of its answer in the application form."""
        return f"q_{self.key}"

    @property
    def document_purpose(self) -> str:
        """The purpose of the document that answers a file question."""
        return f"question-{self.key}"

    def option_label(self, value: str, locale: str) -> str:
        for option in self.options or []:
            if option["value"] == value:
                labels = option.get("label") or {}
                return (
                    labels.get(locale)
                    or labels.get(self.language)
                    or next(iter(labels.values()), value)
                )
        return value


class Answer(db.Model):
    """An application's answer to one question of the version it answers."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("application_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    #: A string, or a list of option values for several choices.
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    question: Mapped[Question] = relationship()
