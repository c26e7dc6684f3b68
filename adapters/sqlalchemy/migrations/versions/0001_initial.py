"""The initial schema: the observatory tables, downtime, users and the change log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cameratypes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("pscale", sa.Float(), nullable=False),
        sa.Column("size", sa.String(), nullable=False),
        sa.Column("pixels_x", sa.Integer(), nullable=False),
        sa.Column("pixels_y", sa.Integer(), nullable=False),
        sa.Column("max_rois", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameratypes")),
    )
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("batch", sa.String(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
    )
    op.create_index(op.f("ix_change_log_kind_entity_id"), "change_log", ["kind", "entity_id"], unique=False)
    op.create_index(op.f("ix_change_log_time"), "change_log", ["time"], unique=False)
    op.create_table(
        "configurationtypes",
        sa.Column("code", sa.String(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_configurationtypes")),
    )
    op.create_table(
        "downtimes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("enclosure", sa.String(), nullable=False),
        sa.Column("telescope", sa.String(), nullable=False),
        sa.Column("instrument_type", sa.String(), server_default="", nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downtimes")),
    )
    op.create_index(op.f("ix_downtimes_created"), "downtimes", ["created"], unique=False)
    op.create_index(op.f("ix_downtimes_end"), "downtimes", ["end"], unique=False)
    op.create_index(
        op.f("ix_downtimes_site_enclosure_telescope"), "downtimes", ["site", "enclosure", "telescope"], unique=False
    )
    op.create_index(op.f("ix_downtimes_start"), "downtimes", ["start"], unique=False)
    op.create_table(
        "instrumentcategories",
        sa.Column("code", sa.String(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_instrumentcategories")),
    )
    op.create_table(
        "modetypes",
        sa.Column("id", sa.String(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modetypes")),
    )
    op.create_table(
        "observatory_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_observatory_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observatory_version")),
    )
    # The counter row always exists, so saving the observatory can bump it with a conditional UPDATE.
    op.execute("INSERT INTO observatory_version (id, version) VALUES (1, 0)")
    op.create_table(
        "opticalelementgroups",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("default", sa.String(), nullable=False),
        sa.Column("element_change_overhead", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opticalelementgroups")),
    )
    op.create_table(
        "opticalelements",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("schedulable", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opticalelements")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("long", sa.Float(), nullable=False),
        sa.Column("elevation", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tz", sa.String(), nullable=False),
        sa.Column("restart", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("username_key", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("email", sa.String(), server_default="", nullable=False),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("api_token", sa.String(), nullable=True),
        sa.Column("api_token_sha256", sa.String(length=64), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("api_token_sha256", name=op.f("uq_users_api_token_sha256")),
        sa.UniqueConstraint("username_key", name=op.f("uq_users_username_key")),
    )
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("camera_type_id", sa.Integer(), nullable=False),
        sa.Column("orientation", sa.Float(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_type_id"], ["cameratypes.id"], name=op.f("fk_cameras_camera_type_id_cameratypes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
    )
    op.create_index(op.f("ix_cameras_camera_type_id"), "cameras", ["camera_type_id"], unique=False)
    op.create_table(
        "enclosures",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_enclosures_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enclosures")),
    )
    op.create_index(op.f("ix_enclosures_site_id"), "enclosures", ["site_id"], unique=False)
    op.create_table(
        "instrumenttypes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("instrument_category", sa.String(), nullable=True),
        sa.Column("default_configuration_type", sa.String(), nullable=True),
        sa.Column("fixed_overhead_per_exposure", sa.Float(), nullable=False),
        sa.Column("observation_front_padding", sa.Float(), nullable=False),
        sa.Column("config_front_padding", sa.Float(), nullable=False),
        sa.Column("acquire_exposure_time", sa.Float(), nullable=False),
        sa.Column("default_acceptability_threshold", sa.Float(), nullable=False),
        sa.Column("allow_self_guiding", sa.Boolean(), nullable=False),
        sa.Column("validation_schema", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["default_configuration_type"],
            ["configurationtypes.code"],
            name=op.f("fk_instrumenttypes_default_configuration_type_configurationtypes"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument_category"],
            ["instrumentcategories.code"],
            name=op.f("fk_instrumenttypes_instrument_category_instrumentcategories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrumenttypes")),
    )
    op.create_index(
        op.f("ix_instrumenttypes_default_configuration_type"),
        "instrumenttypes",
        ["default_configuration_type"],
        unique=False,
    )
    op.create_index(
        op.f("ix_instrumenttypes_instrument_category"), "instrumenttypes", ["instrument_category"], unique=False
    )
    op.create_table(
        "opticalelementgroup_elements",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["opticalelements.id"],
            name=op.f("fk_opticalelementgroup_elements_element_id_opticalelements"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["opticalelementgroups.id"],
            name=op.f("fk_opticalelementgroup_elements_group_id_opticalelementgroups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "position", name=op.f("pk_opticalelementgroup_elements")),
    )
    op.create_index(
        op.f("ix_opticalelementgroup_elements_element_id"), "opticalelementgroup_elements", ["element_id"], unique=False
    )
    op.create_table(
        "camera_opticalelementgroups",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_opticalelementgroups_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["opticalelementgroups.id"],
            name=op.f("fk_camera_opticalelementgroups_group_id_opticalelementgroups"),
        ),
        sa.PrimaryKeyConstraint("camera_id", "position", name=op.f("pk_camera_opticalelementgroups")),
    )
    op.create_index(
        op.f("ix_camera_opticalelementgroups_group_id"), "camera_opticalelementgroups", ["group_id"], unique=False
    )
    op.create_table(
        "configurationtypeproperties",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("instrument_type_id", sa.Integer(), nullable=False),
        sa.Column("configuration_type", sa.String(), nullable=False),
        sa.Column("config_change_overhead", sa.Float(), nullable=False),
        sa.Column("schedulable", sa.Boolean(), nullable=False),
        sa.Column("force_acquisition_off", sa.Boolean(), nullable=False),
        sa.Column("requires_optical_elements", sa.Boolean(), nullable=False),
        sa.Column("validation_schema", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_type"],
            ["configurationtypes.code"],
            name=op.f("fk_configurationtypeproperties_configuration_type_configurationtypes"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument_type_id"],
            ["instrumenttypes.id"],
            name=op.f("fk_configurationtypeproperties_instrument_type_id_instrumenttypes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_configurationtypeproperties")),
    )
    op.create_index(
        op.f("ix_configurationtypeproperties_configuration_type"),
        "configurationtypeproperties",
        ["configuration_type"],
        unique=False,
    )
    op.create_index(
        op.f("ix_configurationtypeproperties_instrument_type_id"),
        "configurationtypeproperties",
        ["instrument_type_id"],
        unique=False,
    )
    op.create_table(
        "genericmodegroups",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("instrument_type_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("default", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_type_id"],
            ["instrumenttypes.id"],
            name=op.f("fk_genericmodegroups_instrument_type_id_instrumenttypes"),
        ),
        sa.ForeignKeyConstraint(["type"], ["modetypes.id"], name=op.f("fk_genericmodegroups_type_modetypes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genericmodegroups")),
    )
    op.create_index(
        op.f("ix_genericmodegroups_instrument_type_id"), "genericmodegroups", ["instrument_type_id"], unique=False
    )
    op.create_index(op.f("ix_genericmodegroups_type"), "genericmodegroups", ["type"], unique=False)
    op.create_table(
        "telescopes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enclosure_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("aperture", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("long", sa.Float(), nullable=False),
        sa.Column("horizon", sa.Float(), nullable=False),
        sa.Column("ha_limit_neg", sa.Float(), nullable=False),
        sa.Column("ha_limit_pos", sa.Float(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("serial_number", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("zenith_blind_spot", sa.Float(), nullable=False),
        sa.Column("slew_rate", sa.Float(), nullable=False),
        sa.Column("minimum_slew_overhead", sa.Float(), nullable=False),
        sa.Column("maximum_slew_overhead", sa.Float(), nullable=False),
        sa.Column("instrument_change_overhead", sa.Float(), nullable=False),
        sa.Column("telescope_front_padding", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enclosure_id"], ["enclosures.id"], name=op.f("fk_telescopes_enclosure_id_enclosures")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telescopes")),
    )
    op.create_index(op.f("ix_telescopes_enclosure_id"), "telescopes", ["enclosure_id"], unique=False)
    op.create_table(
        "genericmodes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("overhead", sa.Float(), nullable=False),
        sa.Column("schedulable", sa.Boolean(), nullable=False),
        sa.Column("validation_schema", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["genericmodegroups.id"], name=op.f("fk_genericmodes_group_id_genericmodegroups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genericmodes")),
    )
    op.create_index(op.f("ix_genericmodes_group_id"), "genericmodes", ["group_id"], unique=False)
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("telescope_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("instrument_type_id", sa.Integer(), nullable=False),
        sa.Column("autoguider_camera_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("autoguider_type", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["autoguider_camera_id"], ["cameras.id"], name=op.f("fk_instruments_autoguider_camera_id_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_type_id"],
            ["instrumenttypes.id"],
            name=op.f("fk_instruments_instrument_type_id_instrumenttypes"),
        ),
        sa.ForeignKeyConstraint(
            ["telescope_id"], ["telescopes.id"], name=op.f("fk_instruments_telescope_id_telescopes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
    )
    op.create_index(op.f("ix_instruments_autoguider_camera_id"), "instruments", ["autoguider_camera_id"], unique=False)
    op.create_index(op.f("ix_instruments_instrument_type_id"), "instruments", ["instrument_type_id"], unique=False)
    op.create_index(op.f("ix_instruments_telescope_id"), "instruments", ["telescope_id"], unique=False)
    op.create_table(
        "instrument_science_cameras",
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_instrument_science_cameras_camera_id_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_instrument_science_cameras_instrument_id_instruments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instrument_id", "position", name=op.f("pk_instrument_science_cameras")),
    )
    op.create_index(
        op.f("ix_instrument_science_cameras_camera_id"), "instrument_science_cameras", ["camera_id"], unique=False
    )


def downgrade() -> None:
    # Dependents first, so no foreign key is left pointing at a dropped table.
    op.drop_table("instrument_science_cameras")
    op.drop_table("instruments")
    op.drop_table("genericmodes")
    op.drop_table("telescopes")
    op.drop_table("genericmodegroups")
    op.drop_table("configurationtypeproperties")
    op.drop_table("camera_opticalelementgroups")
    op.drop_table("opticalelementgroup_elements")
    op.drop_table("instrumenttypes")
    op.drop_table("enclosures")
    op.drop_table("cameras")
    op.drop_table("users")
    op.drop_table("sites")
    op.drop_table("opticalelements")
    op.drop_table("opticalelementgroups")
    op.drop_table("observatory_version")
    op.drop_table("modetypes")
    op.drop_table("instrumentcategories")
    op.drop_table("downtimes")
    op.drop_table("configurationtypes")
    op.drop_table("change_log")
    op.drop_table("cameratypes")
