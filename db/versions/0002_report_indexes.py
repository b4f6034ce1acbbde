"""Covering indexes on quiz_attempts for the instructor reports.

The reports read the whole attempts table (a million rows for 10,000 learners
x 100 attempts). With only narrow indexes SQLite either sorts the table or
fetches every row from a random page; these two indexes *replace* the old
ones (same leading columns, so every query that used those still does) and
carry the columns the reports read, so each report is one ordered pass over
an index and never touches the table:

- (learner_id, created, id, item_id, correct, seconds, session_id): a
  learner's attempts in time order (the store), per-learner activity (class
  overview) and the answer timelines of the tutoring-effect report.
- (item_id, learner_id, created, correct, score, answer): per-item totals and
  each learner's first attempt at each item (item analysis).

Replacing rather than adding keeps the number of indexes an insert updates at
two. No data changes, so there is nothing to backfill.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMELINE = ["learner_id", "created", "id", "item_id", "correct", "seconds", "session_id"]
BY_ITEM = ["item_id", "learner_id", "created", "correct", "score", "answer"]


def upgrade() -> None:
    op.create_index("ix_quiz_attempts_learner_timeline", "quiz_attempts", TIMELINE)
    op.create_index("ix_quiz_attempts_item_learner", "quiz_attempts", BY_ITEM)
    op.drop_index(op.f("ix_quiz_attempts_learner_id_created_id"), table_name="quiz_attempts")
    op.drop_index(op.f("ix_quiz_attempts_item_id"), table_name="quiz_attempts")


def downgrade() -> None:
    op.create_index(
        op.f("ix_quiz_attempts_learner_id_created_id"), "quiz_attempts", ["learner_id", "created", "id"]
    )
    op.create_index(op.f("ix_quiz_attempts_item_id"), "quiz_attempts", ["item_id"])
    op.drop_index("ix_quiz_attempts_item_learner", table_name="quiz_attempts")
    op.drop_index("ix_quiz_attempts_learner_timeline", table_name="quiz_attempts")
