"""Initial schema: learners, instructor credential, sessions, chat, attempts, hints, mastery, reviews.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _learner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["learner_id"], ["learners.id"], name=op.f(f"fk_{table}_learner_id_learners"), ondelete="CASCADE"
    )


def _session_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["session_id"],
        ["study_sessions.id"],
        name=op.f(f"fk_{table}_session_id_study_sessions"),
        ondelete="SET NULL",
    )


def upgrade() -> None:
    op.create_table(
        "instructor_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _when("updated"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructor_credentials")),
    )
    op.create_table(
        "learners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("style", sa.String(length=20), nullable=False),
        _when("created"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learners")),
        sa.UniqueConstraint("name", name=op.f("uq_learners_name")),
    )
    op.create_table(
        "concept_mastery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("concept_id", sa.String(length=100), nullable=False),
        sa.Column("p_known", sa.Double(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        _when("updated"),
        _learner_fk("concept_mastery"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concept_mastery")),
        sa.UniqueConstraint(
            "learner_id", "concept_id", name=op.f("uq_concept_mastery_learner_id_concept_id")
        ),
    )
    op.create_table(
        "hints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        _when("created"),
        _learner_fk("hints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hints")),
    )
    op.create_index(op.f("ix_hints_learner_id_item_id"), "hints", ["learner_id", "item_id"])
    op.create_table(
        "review_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        _when("due"),
        _learner_fk("review_schedule"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_schedule")),
        sa.UniqueConstraint("learner_id", "item_id", name=op.f("uq_review_schedule_learner_id_item_id")),
    )
    op.create_index(op.f("ix_review_schedule_learner_id_due"), "review_schedule", ["learner_id", "due"])
    op.create_table(
        "study_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        _when("started"),
        _when("ended", nullable=True),
        _learner_fk("study_sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_sessions")),
    )
    op.create_index(
        op.f("ix_study_sessions_learner_id_started"), "study_sessions", ["learner_id", "started"]
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("in_scope", sa.Boolean(), nullable=True),
        sa.Column("grounded", sa.Double(), nullable=True),
        sa.Column("model_id", sa.Text(), nullable=True),
        sa.Column("adapter_id", sa.Text(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        _when("created"),
        _learner_fk("chat_messages"),
        _session_fk("chat_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index(
        op.f("ix_chat_messages_learner_id_created_id"), "chat_messages", ["learner_id", "created", "id"]
    )
    op.create_index(op.f("ix_chat_messages_session_id"), "chat_messages", ["session_id"])
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("course_id", sa.String(length=200), nullable=False),
        sa.Column("bank_version", sa.String(length=100), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("rubric_met", sa.JSON(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("hints_used", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("concepts", sa.JSON(), nullable=False),
        _when("created"),
        _learner_fk("quiz_attempts"),
        _session_fk("quiz_attempts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
    )
    op.create_index(
        op.f("ix_quiz_attempts_learner_id_created_id"), "quiz_attempts", ["learner_id", "created", "id"]
    )
    op.create_index(op.f("ix_quiz_attempts_item_id"), "quiz_attempts", ["item_id"])


def downgrade() -> None:
    for table in (
        "quiz_attempts",
        "chat_messages",
        "study_sessions",
        "review_schedule",
        "hints",
        "concept_mastery",
        "learners",
        "instructor_credentials",
    ):
        op.drop_table(table)  # drops the table's indexes with it
