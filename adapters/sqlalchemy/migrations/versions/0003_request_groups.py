"""Request groups: the groups, their requests, the requests' windows and configurations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal", sa.String(length=255), nullable=False),
        sa.Column("submitter", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("observation_type", sa.String(length=32), nullable=False),
        sa.Column("operator", sa.String(length=32), nullable=False),
        sa.Column("ipp_value", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["proposal"], ["proposals.id"], name=op.f("fk_request_groups_proposal_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_groups")),
    )
    op.create_index(op.f("ix_request_groups_created"), "request_groups", ["created"], unique=False)
    op.create_index(op.f("ix_request_groups_proposal"), "request_groups", ["proposal"], unique=False)
    op.create_index(op.f("ix_request_groups_state"), "request_groups", ["state"], unique=False)
    op.create_index(op.f("ix_request_groups_submitter"), "request_groups", ["submitter"], unique=False)
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_group_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("location_telescope_class", sa.String(), nullable=True),
        sa.Column("location_site", sa.String(), server_default="", nullable=False),
        sa.Column("location_enclosure", sa.String(), server_default="", nullable=False),
        sa.Column("location_telescope", sa.String(), server_default="", nullable=False),
        sa.Column("observation_note", sa.Text(), server_default="", nullable=False),
        sa.Column("optimization_type", sa.String(length=32), nullable=False),
        sa.Column("acceptability_threshold", sa.Float(), nullable=True),
        sa.Column("configuration_repeats", sa.Integer(), nullable=False),
        sa.Column("extra_params", sa.JSON(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("suspend_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_group_id"],
            ["request_groups.id"],
            name=op.f("fk_requests_request_group_id_request_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
    )
    op.create_index(
        op.f("ix_requests_location_telescope_class"), "requests", ["location_telescope_class"], unique=False
    )
    op.create_index(op.f("ix_requests_modified"), "requests", ["modified"], unique=False)
    op.create_index(op.f("ix_requests_request_group_id"), "requests", ["request_group_id"], unique=False)
    op.create_index(op.f("ix_requests_state"), "requests", ["state"], unique=False)
    op.create_table(
        "windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_windows_request_id_requests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_windows")),
    )
    op.create_index(op.f("ix_windows_request_id"), "windows", ["request_id"], unique=False)
    op.create_index(op.f("ix_windows_start"), "windows", ["start"], unique=False)
    op.create_table(
        "configurations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("instrument_type", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("repeat_duration", sa.Float(), nullable=True),
        sa.Column("instrument_name", sa.String(), server_default="", nullable=False),
        sa.Column("guide_camera_name", sa.String(), server_default="", nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("constraints", sa.JSON(), nullable=False),
        sa.Column("acquisition_config", sa.JSON(), nullable=False),
        sa.Column("guiding_config", sa.JSON(), nullable=False),
        sa.Column("instrument_configs", sa.JSON(), nullable=False),
        sa.Column("extra_params", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_configurations_request_id_requests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_configurations")),
    )
    op.create_index(op.f("ix_configurations_instrument_type"), "configurations", ["instrument_type"], unique=False)
    op.create_index(op.f("ix_configurations_request_id"), "configurations", ["request_id"], unique=False)


def downgrade() -> None:
    # Dependents first, so no foreign key is left pointing at a dropped table.
    op.drop_table("configurations")
    op.drop_table("windows")
    op.drop_table("requests")
    op.drop_table("request_groups")
