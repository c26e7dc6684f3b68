"""Observations: requests placed on telescopes, and their configuration statuses with the telescopes' summaries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMMARY_WHOLE = (
    "(summary_start IS NULL) = (summary_end IS NULL)"
    " AND (summary_start IS NULL) = (summary_state IS NULL)"
    " AND (summary_start IS NULL) = (summary_reason IS NULL)"
    " AND (summary_start IS NULL) = (summary_time_completed_s IS NULL)"
    " AND (summary_start IS NULL) = (summary_events IS NULL)"
)


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("enclosure", sa.String(), nullable=False),
        sa.Column("telescope", sa.String(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_observations_request_id_requests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(op.f("ix_observations_request_id"), "observations", ["request_id"], unique=False)
    op.create_index(
        op.f("ix_observations_site_enclosure_telescope_start"),
        "observations",
        ["site", "enclosure", "telescope", "start"],
        unique=False,
    )
    op.create_index(op.f("ix_observations_state"), "observations", ["state"], unique=False)
    op.create_table(
        "configuration_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("configuration_id", sa.Integer(), nullable=False),
        sa.Column("instrument_name", sa.String(), nullable=False),
        sa.Column("guide_camera_name", sa.String(), server_default="", nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("time_charged_h", sa.Float(), server_default="0", nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_state", sa.String(), nullable=True),
        sa.Column("summary_reason", sa.Text(), nullable=True),
        sa.Column("summary_time_completed_s", sa.Float(), nullable=True),
        sa.Column("summary_events", sa.JSON(), nullable=True),
        sa.CheckConstraint(SUMMARY_WHOLE, name=op.f("ck_configuration_statuses_summary_whole")),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["configurations.id"],
            name=op.f("fk_configuration_statuses_configuration_id_configurations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_configuration_statuses_observation_id_observations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_configuration_statuses")),
    )
    op.create_index(
        op.f("ix_configuration_statuses_configuration_id"), "configuration_statuses", ["configuration_id"], unique=False
    )
    op.create_index(
        op.f("ix_configuration_statuses_instrument_name"), "configuration_statuses", ["instrument_name"], unique=False
    )
    op.create_index(
        op.f("ix_configuration_statuses_observation_id"), "configuration_statuses", ["observation_id"], unique=False
    )
    op.create_index(op.f("ix_configuration_statuses_state"), "configuration_statuses", ["state"], unique=False)


def downgrade() -> None:
    # Dependents first, so no foreign key is left pointing at a dropped table.
    op.drop_table("configuration_statuses")
    op.drop_table("observations")
