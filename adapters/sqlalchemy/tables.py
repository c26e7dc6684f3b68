"""The relational schema: one MetaData holding every table the SQLAlchemy adapters read and write.

The observatory tables are derived from the record classes in ``domain.observatory`` (one table per kind,
one column per attrs field), so a field added to a record cannot be forgotten here; the migrations in
``migrations/versions`` spell the same schema out by hand and a test keeps the two equal.
"""

from __future__ import annotations

import enum
import typing
from datetime import UTC, datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.mutable import MutableList

from domain.observations import ObservationState, StatusState
from domain.observatory import KINDS, Kind
from domain.proposals import Role
from domain.requestgroups import ObservationType, Operator, OptimizationType, RequestState

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones: values are stored as naive UTC text (so they sort and compare correctly) and
    come back tagged UTC. PostgreSQL stores ``timestamptz`` and returns the session's zone, converted to UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # Naive times are made aware at the edge; one arriving here would be stored at the wrong instant.
            raise ValueError(f"naive datetime {value!r} cannot be stored; make it timezone-aware UTC first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EmptyAsNull(sa.TypeDecorator[str]):
    """A code that may be left empty (``""`` in the domain) but otherwise refers to another table's key.

    The domain writes "no value" as ``""``; a foreign key accepts only NULL for that, so the two are swapped at
    the boundary.
    """

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value or None

    def process_result_value(self, value: str | None, dialect: Dialect) -> str:
        return value or ""


class StrEnumType(sa.TypeDecorator[enum.StrEnum]):
    """A string enum stored as its value in a plain string column (no native enum type to migrate)."""

    impl = sa.String(32)
    cache_ok = True

    def __init__(self, enum_class: type[enum.StrEnum]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: enum.StrEnum | str | None, dialect: Dialect) -> str | None:
        # Through the enum, so a stray string that is no member fails here rather than in a later read.
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> enum.StrEnum | None:
        return None if value is None else self.enum_class(value)


def json_list() -> sa.types.TypeEngine[Any]:
    """A JSON list whose in-place changes (``tags.append``) are noticed and stored, as whole assignments are."""
    return MutableList.as_mutable(sa.JSON())


# ---------------------------------------------------------------------------------------------------------
# The observatory: one table per kind, named as the kind.

# Links between records, as (kind, field) -> "table.column". Every id or code a record holds is listed here.
OBSERVATORY_FOREIGN_KEYS: dict[tuple[str, str], str] = {
    ("opticalelementgroups", "element_ids"): "opticalelements.id",
    ("cameras", "camera_type_id"): "cameratypes.id",
    ("cameras", "optical_element_group_ids"): "opticalelementgroups.id",
    ("instrumenttypes", "instrument_category"): "instrumentcategories.code",
    ("instrumenttypes", "default_configuration_type"): "configurationtypes.code",
    ("configurationtypeproperties", "instrument_type_id"): "instrumenttypes.id",
    ("configurationtypeproperties", "configuration_type"): "configurationtypes.code",
    ("genericmodegroups", "instrument_type_id"): "instrumenttypes.id",
    ("genericmodegroups", "type"): "modetypes.id",
    ("genericmodes", "group_id"): "genericmodegroups.id",
    ("enclosures", "site_id"): "sites.id",
    ("telescopes", "enclosure_id"): "enclosures.id",
    ("instruments", "telescope_id"): "telescopes.id",
    ("instruments", "instrument_type_id"): "instrumenttypes.id",
    ("instruments", "science_camera_ids"): "cameras.id",
    ("instruments", "autoguider_camera_id"): "cameras.id",
}

# Code links that the domain may leave empty (upstream allows null there); see EmptyAsNull.
OPTIONAL_CODE_LINKS = {("instrumenttypes", "instrument_category"), ("instrumenttypes", "default_configuration_type")}


@attrs.frozen
class Association:
    """An ordered list of ids on a record (a ``tuple[int, ...]`` field), stored as rows (owner, position, member)."""

    field: str
    table: sa.Table
    owner: str
    member: str


# (kind, field) -> (table name, owner column, member column)
_ASSOCIATION_NAMES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("opticalelementgroups", "element_ids"): ("opticalelementgroup_elements", "group_id", "element_id"),
    ("cameras", "optical_element_group_ids"): ("camera_opticalelementgroups", "camera_id", "group_id"),
    ("instruments", "science_camera_ids"): ("instrument_science_cameras", "instrument_id", "camera_id"),
}


def _column_type(kind: str, name: str, hint: Any) -> sa.types.TypeEngine[Any]:
    if (kind, name) in OPTIONAL_CODE_LINKS:
        return EmptyAsNull()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return sa.String(32)
    if hint is bool:
        return sa.Boolean()
    if hint is int:
        return sa.Integer()
    if hint is float:
        return sa.Float()
    if hint is str:
        return sa.String()
    if typing.get_origin(hint) is dict:
        return sa.JSON()
    raise TypeError(f"no column type for {kind}.{name}: {hint!r}")


def _observatory_tables(kind: Kind) -> tuple[sa.Table, list[Association]]:
    hints = typing.get_type_hints(kind.record_class)
    columns: list[sa.Column[Any]] = []
    associations: list[Association] = []
    for field in attrs.fields(kind.record_class):
        hint = hints[field.name]
        target = OBSERVATORY_FOREIGN_KEYS.get((kind.name, field.name))
        if typing.get_origin(hint) is tuple:
            table_name, owner, member = _ASSOCIATION_NAMES[(kind.name, field.name)]
            owner_target = f"{kind.name}.{kind.key}"
            table = sa.Table(
                table_name,
                metadata,
                # Association rows belong to their owner; the member side refuses to lose a referenced record.
                sa.Column(owner, sa.Integer, sa.ForeignKey(owner_target, ondelete="CASCADE"), primary_key=True),
                sa.Column("position", sa.Integer, primary_key=True),
                sa.Column(member, sa.Integer, sa.ForeignKey(str(target)), nullable=False, index=True),
            )
            associations.append(Association(field.name, table, owner, member))
            continue
        is_key = field.name == kind.key
        args: list[Any] = [sa.ForeignKey(target)] if target else []
        columns.append(
            sa.Column(
                field.name,
                _column_type(kind.name, field.name, hint),
                *args,
                primary_key=is_key,
                # Ids come from the domain (the import file and the API name them), never from a sequence.
                autoincrement=False if is_key else "auto",
                nullable=(kind.name, field.name) in OPTIONAL_CODE_LINKS,
                index=bool(target) and not is_key,
            )
        )
    return sa.Table(kind.name, metadata, *columns), associations


OBSERVATORY_TABLES: dict[str, sa.Table] = {}
ASSOCIATIONS: dict[str, list[Association]] = {}
for _kind in KINDS:
    OBSERVATORY_TABLES[_kind.name], ASSOCIATIONS[_kind.name] = _observatory_tables(_kind)

observatory_version = sa.Table(
    "observatory_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.CheckConstraint("id = 1", name="one_row"),
)


@sa.event.listens_for(observatory_version, "after_create")
def _insert_version_row(target: sa.Table, connection: sa.Connection, **_: Any) -> None:
    # The counter row exists from the start (the migration inserts it too), so saving can always UPDATE it.
    connection.execute(target.insert().values(id=1, version=0))


# ---------------------------------------------------------------------------------------------------------
# Downtime, users, proposals and the change log.

downtimes = sa.Table(
    "downtimes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("start", UtcDateTime, nullable=False, index=True),
    sa.Column("end", UtcDateTime, nullable=False, index=True),
    sa.Column("site", sa.String, nullable=False),
    sa.Column("enclosure", sa.String, nullable=False),
    sa.Column("telescope", sa.String, nullable=False),
    sa.Column("instrument_type", sa.String, nullable=False, server_default=""),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("created", UtcDateTime, nullable=True, index=True),
    sa.Column("modified", UtcDateTime, nullable=True),
    sa.Index(None, "site", "enclosure", "telescope"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String, nullable=False),
    # Usernames are unique regardless of case; the folded form carries the constraint and serves look-ups.
    sa.Column("username_key", sa.String, nullable=False, unique=True),
    sa.Column("password_hash", sa.String, nullable=False),
    sa.Column("email", sa.String, nullable=False, server_default=""),
    sa.Column("is_staff", sa.Boolean, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("api_token", sa.String, nullable=True),
    # Tokens are looked up by digest so the index never holds the secret itself.
    sa.Column("api_token_sha256", sa.String(64), nullable=True, unique=True),
    sa.Column("created", UtcDateTime, nullable=True),
    # Added with proposals (migration 0002); the server defaults fill in the rows that existed before.
    sa.Column("first_name", sa.String, nullable=False, server_default=""),
    sa.Column("last_name", sa.String, nullable=False, server_default=""),
    sa.Column("is_superuser", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("institution", sa.String, nullable=False, server_default=""),
    sa.Column("title", sa.String, nullable=False, server_default=""),
    sa.Column("education_user", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("notifications_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("notifications_on_authored_only", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("simple_interface", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("view_authored_requests_only", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("staff_view", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("terms_accepted", UtcDateTime, nullable=True),
)

semesters = sa.Table(
    "semesters",
    metadata,
    sa.Column("id", sa.String(20), primary_key=True),
    sa.Column("start", UtcDateTime, nullable=False, index=True),
    sa.Column("end", UtcDateTime, nullable=False),
)

proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("abstract", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("non_science", sa.Boolean, nullable=False),
    sa.Column("direct_submission", sa.Boolean, nullable=False),
    sa.Column("tac_priority", sa.Integer, nullable=False),
    sa.Column("tac_rank", sa.Integer, nullable=False),
    sa.Column("sca", sa.String(20), nullable=False),
    sa.Column("tags", json_list(), nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("cis_see_all_requests", sa.Boolean, nullable=False),
    sa.Column("created", UtcDateTime, nullable=True),
    sa.Column("modified", UtcDateTime, nullable=True),
)

# A proposal's children belong to it: deleting the proposal row deletes them.
memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("proposal_id", sa.String(255), sa.ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("role", StrEnumType(Role), nullable=False),
    sa.Column("time_limit_s", sa.Integer, nullable=False),
    # Also the index for loading a proposal's members (proposal_id leads).
    sa.UniqueConstraint("proposal_id", "user_id"),
)

invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "proposal_id", sa.String(255), sa.ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("email", sa.String, nullable=False, index=True),
    sa.Column("time_limit_s", sa.Integer, nullable=False),
    sa.Column("role", StrEnumType(Role), nullable=False),
    sa.Column("sent", UtcDateTime, nullable=True),
    sa.Column("used", UtcDateTime, nullable=True),
)

time_allocations = sa.Table(
    "time_allocations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "proposal_id", sa.String(255), sa.ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("semester_id", sa.String(20), sa.ForeignKey("semesters.id"), nullable=False, index=True),
    sa.Column("instrument_types", json_list(), nullable=False),
    # Hours.
    sa.Column("std_allocation", sa.Float, nullable=False),
    sa.Column("std_time_used", sa.Float, nullable=False),
    sa.Column("rr_allocation", sa.Float, nullable=False),
    sa.Column("rr_time_used", sa.Float, nullable=False),
    sa.Column("tc_allocation", sa.Float, nullable=False),
    sa.Column("tc_time_used", sa.Float, nullable=False),
    sa.Column("realtime_allocation", sa.Float, nullable=False),
    sa.Column("realtime_time_used", sa.Float, nullable=False),
    sa.Column("ipp_limit", sa.Float, nullable=False),
    sa.Column("ipp_time_available", sa.Float, nullable=False),
)

change_log = sa.Table(
    "change_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("time", UtcDateTime, nullable=False, index=True),
    sa.Column("user", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("entity_id", sa.String, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("changes", sa.JSON, nullable=False),
    sa.Column("batch", sa.String, nullable=False, server_default=""),
    sa.Index(None, "kind", "entity_id"),
)


# ---------------------------------------------------------------------------------------------------------
# Request groups: the group, its requests, their windows and configurations.
#
# Columns keep the request language's names (``duration``, ``repeat_duration``, seconds) rather than unit-suffixed
# ones: the language is the OCS's, with its units fixed for the whole of it (see domain.requestgroups). Values that
# are only ever read whole with their configuration (target, constraints, acquisition and guiding configs,
# instrument configs with their regions of interest) are JSON; what the lists filter or order on is a column.

request_groups = sa.Table(
    "request_groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("proposal", sa.String(255), sa.ForeignKey("proposals.id"), nullable=False, index=True),
    # The submitter's username: groups keep it as the OCS does, whatever later happens to the account.
    sa.Column("submitter", sa.String, nullable=False, index=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("observation_type", StrEnumType(ObservationType), nullable=False),
    sa.Column("operator", StrEnumType(Operator), nullable=False),
    sa.Column("ipp_value", sa.Float, nullable=False),
    sa.Column("state", StrEnumType(RequestState), nullable=False, index=True),
    sa.Column("created", UtcDateTime, nullable=True, index=True),
    sa.Column("modified", UtcDateTime, nullable=True),
)

# A group's children belong to it: deleting the group row deletes them.
requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "request_group_id",
        sa.Integer,
        sa.ForeignKey("request_groups.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("state", StrEnumType(RequestState), nullable=False, index=True),
    # NULL when the request has no location (DIRECT and REAL_TIME); the other parts are "" for "any".
    sa.Column("location_telescope_class", sa.String, nullable=True, index=True),
    sa.Column("location_site", sa.String, nullable=False, server_default=""),
    sa.Column("location_enclosure", sa.String, nullable=False, server_default=""),
    sa.Column("location_telescope", sa.String, nullable=False, server_default=""),
    sa.Column("observation_note", sa.Text, nullable=False, server_default=""),
    sa.Column("optimization_type", StrEnumType(OptimizationType), nullable=False),
    sa.Column("acceptability_threshold", sa.Float, nullable=True),
    sa.Column("configuration_repeats", sa.Integer, nullable=False),
    sa.Column("extra_params", sa.JSON, nullable=False),
    # Seconds, fixed at submission.
    sa.Column("duration", sa.Integer, nullable=True),
    sa.Column("suspend_until", UtcDateTime, nullable=True),
    sa.Column("created", UtcDateTime, nullable=True),
    sa.Column("modified", UtcDateTime, nullable=True, index=True),
)

# Rows of their own rather than JSON on the request: the scheduler feed selects groups by window start.
windows = sa.Table(
    "windows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("start", UtcDateTime, nullable=False, index=True),
    sa.Column("end", UtcDateTime, nullable=False),
)

configurations = sa.Table(
    "configurations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("instrument_type", sa.String, nullable=False, index=True),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("repeat_duration", sa.Float, nullable=True),
    sa.Column("instrument_name", sa.String, nullable=False, server_default=""),
    sa.Column("guide_camera_name", sa.String, nullable=False, server_default=""),
    sa.Column("target", sa.JSON, nullable=False),
    sa.Column("constraints", sa.JSON, nullable=False),
    sa.Column("acquisition_config", sa.JSON, nullable=False),
    sa.Column("guiding_config", sa.JSON, nullable=False),
    sa.Column("instrument_configs", sa.JSON, nullable=False),
    sa.Column("extra_params", sa.JSON, nullable=False),
)


# ---------------------------------------------------------------------------------------------------------
# Drafts: request groups being written in the web form, their content kept as the form's JSON text.

# A draft belongs to its author and proposal: deleting either row deletes it, as upstream.
drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "proposal_id", sa.String(255), sa.ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("title", sa.String(50), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("created", UtcDateTime, nullable=False),
    sa.Column("modified", UtcDateTime, nullable=False),
    # Also the index for finding an author's draft by title (author_id leads).
    sa.UniqueConstraint("author_id", "proposal_id", "title"),
)


# ---------------------------------------------------------------------------------------------------------
# Observations: a request placed on a telescope, with one configuration status per configuration and repeat.

# An observation belongs to its request (and so to its group): deleting the request row deletes it.
observations = sa.Table(
    "observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("site", sa.String, nullable=False),
    sa.Column("enclosure", sa.String, nullable=False),
    sa.Column("telescope", sa.String, nullable=False),
    sa.Column("start", UtcDateTime, nullable=False),
    sa.Column("end", UtcDateTime, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("state", StrEnumType(ObservationState), nullable=False, index=True),
    sa.Column("created", UtcDateTime, nullable=True),
    sa.Column("modified", UtcDateTime, nullable=True),
    # A telescope's schedule: the sites' fetches and the overlap checks select by telescope and time.
    sa.Index(None, "site", "enclosure", "telescope", "start"),
)

# The summary is a value object kept in columns of its status: all NULL until the telescope reports one.
configuration_statuses = sa.Table(
    "configuration_statuses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "observation_id", sa.Integer, sa.ForeignKey("observations.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column(
        "configuration_id",
        sa.Integer,
        sa.ForeignKey("configurations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("instrument_name", sa.String, nullable=False, index=True),
    sa.Column("guide_camera_name", sa.String, nullable=False, server_default=""),
    sa.Column("state", StrEnumType(StatusState), nullable=False, index=True),
    sa.Column("time_charged_h", sa.Float, nullable=False, server_default="0"),
    sa.Column("modified", UtcDateTime, nullable=True),
    sa.Column("summary_start", UtcDateTime, nullable=True),
    sa.Column("summary_end", UtcDateTime, nullable=True),
    sa.Column("summary_state", sa.String, nullable=True),
    sa.Column("summary_reason", sa.Text, nullable=True),
    sa.Column("summary_time_completed_s", sa.Float, nullable=True),
    # None is SQL NULL here (no summary), not the JSON value null.
    sa.Column("summary_events", sa.JSON(none_as_null=True), nullable=True),
    # A summary is whole or absent.
    sa.CheckConstraint(
        "(summary_start IS NULL) = (summary_end IS NULL)"
        " AND (summary_start IS NULL) = (summary_state IS NULL)"
        " AND (summary_start IS NULL) = (summary_reason IS NULL)"
        " AND (summary_start IS NULL) = (summary_time_completed_s IS NULL)"
        " AND (summary_start IS NULL) = (summary_events IS NULL)",
        name="summary_whole",
    ),
)
