"""Proposals: semesters, proposals with their memberships, invitations and time allocations; user profiles.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The profile columns users gain, with the server defaults that fill them in on the rows already there.
USER_COLUMNS = (
    ("first_name", sa.String(), ""),
    ("last_name", sa.String(), ""),
    ("is_superuser", sa.Boolean(), sa.false()),
    ("institution", sa.String(), ""),
    ("title", sa.String(), ""),
    ("education_user", sa.Boolean(), sa.false()),
    ("notifications_enabled", sa.Boolean(), sa.false()),
    ("notifications_on_authored_only", sa.Boolean(), sa.false()),
    ("simple_interface", sa.Boolean(), sa.false()),
    ("view_authored_requests_only", sa.Boolean(), sa.false()),
    ("staff_view", sa.Boolean(), sa.false()),
)


def upgrade() -> None:
    for name, type_, default in USER_COLUMNS:
        op.add_column("users", sa.Column(name, type_, server_default=default, nullable=False))
    op.add_column("users", sa.Column("terms_accepted", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "semesters",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_semesters")),
    )
    op.create_index(op.f("ix_semesters_start"), "semesters", ["start"], unique=False)
    op.create_table(
        "proposals",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("non_science", sa.Boolean(), nullable=False),
        sa.Column("direct_submission", sa.Boolean(), nullable=False),
        sa.Column("tac_priority", sa.Integer(), nullable=False),
        sa.Column("tac_rank", sa.Integer(), nullable=False),
        sa.Column("sca", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("cis_see_all_requests", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_memberships_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("proposal_id", "user_id", name=op.f("uq_memberships_proposal_id_user_id")),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"], unique=False)
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_invitations_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    op.create_index(op.f("ix_invitations_email"), "invitations", ["email"], unique=False)
    op.create_index(op.f("ix_invitations_proposal_id"), "invitations", ["proposal_id"], unique=False)
    op.create_table(
        "time_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.String(length=255), nullable=False),
        sa.Column("semester_id", sa.String(length=20), nullable=False),
        sa.Column("instrument_types", sa.JSON(), nullable=False),
        sa.Column("std_allocation", sa.Float(), nullable=False),
        sa.Column("std_time_used", sa.Float(), nullable=False),
        sa.Column("rr_allocation", sa.Float(), nullable=False),
        sa.Column("rr_time_used", sa.Float(), nullable=False),
        sa.Column("tc_allocation", sa.Float(), nullable=False),
        sa.Column("tc_time_used", sa.Float(), nullable=False),
        sa.Column("realtime_allocation", sa.Float(), nullable=False),
        sa.Column("realtime_time_used", sa.Float(), nullable=False),
        sa.Column("ipp_limit", sa.Float(), nullable=False),
        sa.Column("ipp_time_available", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_time_allocations_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["semester_id"], ["semesters.id"], name=op.f("fk_time_allocations_semester_id_semesters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_allocations")),
    )
    op.create_index(op.f("ix_time_allocations_proposal_id"), "time_allocations", ["proposal_id"], unique=False)
    op.create_index(op.f("ix_time_allocations_semester_id"), "time_allocations", ["semester_id"], unique=False)


def downgrade() -> None:
    # Dependents first, so no foreign key is left pointing at a dropped table.
    op.drop_table("time_allocations")
    op.drop_table("invitations")
    op.drop_table("memberships")
    op.drop_table("proposals")
    op.drop_table("semesters")
    # Batch mode, because SQLite before 3.35 cannot drop a column: there the table is copied without them.
    with op.batch_alter_table("users") as batch:
        batch.drop_column("terms_accepted")
        for name, _, _ in reversed(USER_COLUMNS):
            batch.drop_column(name)
