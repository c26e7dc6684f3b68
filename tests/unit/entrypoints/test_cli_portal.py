"""The administrator's command line for semesters, proposals and TAC imports, over an SQLite file.

Each test gets its own copy of one SQLite file that holds the small observatory and three users, so refusals
can be checked against what is stored. Refusals must be one clear line per problem, exit status 1, never a
traceback, and leave the database as it was.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from application.handlers.accounts import CreateUser
from domain.proposals import Proposal, Semester
from entrypoints.cli import main
from entrypoints.config import Settings
from entrypoints.container import build_container, upgrade_database
from tests.unit.domain.test_downtime import small_observatory

# Cheap password hashing: every CLI call builds its own container from the environment.
ENV = {"OBSNET_PASSWORD_HASH_TIME_COST": "1", "OBSNET_DATABASE_URL": ""}
SINISTRO, FLOYDS, MUSCAT = "1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM", "2M0-SCICAM-MUSCAT"


class Db:
    """One SQLite file and what is stored in it."""

    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"

    def run(self, *args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, [*args, "--database-url", self.url], input=stdin, env=ENV)

    def semesters(self) -> list[Semester]:
        container = build_container(Settings(database_url=self.url))
        with container.uow_factory()() as uow:
            return uow.semesters.all()

    def proposals(self) -> dict[str, Proposal]:
        container = build_container(Settings(database_url=self.url))
        with container.uow_factory()() as uow:
            return {p.id: p for p in uow.proposals.all()}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "template.sqlite3"
    container = build_container(Settings(database_url=f"sqlite:///{path}", password_hash_time_cost=1))
    upgrade_database(container)
    with container.uow_factory()() as uow:
        uow.observatory.save(small_observatory())
        uow.commit()
    bus = container.bus()
    bus.handle(CreateUser("ada", "pw", email="ada@example.org", first_name="Ada", last_name="Lovelace"))
    bus.handle(CreateUser("grace", "pw", email="grace@example.org"))
    bus.handle(CreateUser("carl", "pw", email="carl@example.org"))
    container.engine().dispose()
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Iterator[Db]:
    path = tmp_path / "obsnet.sqlite3"
    shutil.copy(template, path)
    return Db(path)


@pytest.fixture
def with_semester(db: Db) -> Db:
    assert db.run("semesters", "create", "2026B", "--start", "2026-08-01", "--end", "2027-02-01").exit_code == 0
    return db


@pytest.fixture
def with_proposal(with_semester: Db) -> Db:
    result = with_semester.run("proposals", "create", "LCO2026B-001", "--pi", "ada", "--title", "Supernovae")
    assert result.exit_code == 0, result.output
    return with_semester


def refused(result: Result, *expected: str) -> list[str]:
    """The command failed as a user error: exit 1, no traceback, every expected text in its error lines."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines, "a refusal must say why"
    assert all(line.startswith(("error:", "nothing imported:", "checking ")) for line in lines), lines
    for text in expected:
        assert any(text in line for line in lines), (text, lines)
    return lines


# ---------------------------------------------------------------------------------------------------------
# Semesters


def test_semesters_are_created_from_iso_dates_and_listed_newest_first(db: Db) -> None:
    created = db.run("semesters", "create", "2026B", "--start", "2026-08-01", "--end", "2027-02-01T00:00:00Z")
    assert created.exit_code == 0, created.output
    assert created.stdout.strip() == "created semester 2026B: 2026-08-01T00:00:00Z to 2027-02-01T00:00:00Z"
    # Naive datetimes are UTC; a semester may start the instant the previous one ends.
    assert db.run("semesters", "create", "2027A", "--start", "2027-02-01 00:00", "--end", "2027-08-01").exit_code == 0

    listed = db.run("semesters", "list")
    assert listed.exit_code == 0
    assert [line.split()[-3] for line in listed.stdout.splitlines()] == ["2027A", "2026B"]
    assert listed.stderr.strip() == "2 semesters"


def test_an_overlapping_semester_is_refused_in_one_line_and_not_stored(with_semester: Db) -> None:
    result = with_semester.run("semesters", "create", "2026C", "--start", "2027-01-01", "--end", "2027-03-01")
    assert refused(result) == ["error: Semester 2026C overlaps 2026B"]
    assert [s.id for s in with_semester.semesters()] == ["2026B"]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2027-03-01", "2027-02-01", "end: End must be after start"),
        ("next tuesday", "2027-02-01", "start: 'next tuesday'"),
        ("2027-02-30", "2027-03-01", "start: '2027-02-30'"),
    ],
)
def test_impossible_semester_bounds_are_refused(db: Db, start: str, end: str, message: str) -> None:
    result = db.run("semesters", "create", "2027A", "--start", start, "--end", end)
    assert len(refused(result, message)) == 1
    assert db.semesters() == []


# ---------------------------------------------------------------------------------------------------------
# Proposals


def test_a_proposal_is_created_with_its_flags_and_listed(with_semester: Db) -> None:
    result = with_semester.run(
        "proposals",
        "create",
        "KEY-001",
        "--pi",
        "ada@example.org",
        "--pi",
        "grace",
        "--title",
        "Key project",
        "--abstract",
        "Many nights",
        "--tac-priority",
        "30",
        "--tac-rank",
        "2",
        "--public",
        "--inactive",
        "--direct-submission",
        "--tag",
        "key",
        "--tag",
        "public",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created inactive proposal KEY-001 led by ada@example.org, grace"
    proposal = with_semester.proposals()["KEY-001"]
    assert (proposal.title, proposal.abstract, proposal.tac_priority, proposal.tac_rank) == (
        "Key project",
        "Many nights",
        30,
        2,
    )
    assert (proposal.public, proposal.active, proposal.non_science, proposal.direct_submission) == (
        True,
        False,
        False,
        True,
    )
    assert proposal.tags == ["key", "public"]
    assert len(proposal.pi_ids()) == 2

    listed = with_semester.run("proposals", "list")
    assert listed.exit_code == 0
    assert listed.stdout.split()[:4] == ["KEY-001", "inactive", "PI", "ada,grace"]
    assert listed.stderr.strip() == "1 proposal"


def test_a_proposal_whose_pi_has_no_account_is_refused_and_not_stored(with_semester: Db) -> None:
    result = with_semester.run("proposals", "create", "NEW-001", "--pi", "ada", "--pi", "nobody@example.org")
    lines = refused(result, "No user nobody@example.org")
    assert len(lines) == 1
    assert with_semester.proposals() == {}
    assert with_semester.run("proposals", "list").stderr.strip() == "0 proposals"


def test_a_second_proposal_with_the_same_id_is_refused(with_proposal: Db) -> None:
    refused(with_proposal.run("proposals", "create", "LCO2026B-001", "--pi", "grace"), "already exists")
    assert with_proposal.proposals()["LCO2026B-001"].title == "Supernovae"


def test_allocating_time_fills_omitted_ipp_values_from_the_standard_hours(with_proposal: Db) -> None:
    result = with_proposal.run(
        "proposals", "allocate", "LCO2026B-001", "2026B", "--instrument-type", SINISTRO.lower(), "--std", "100"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"allocated LCO2026B-001 in 2026B on {SINISTRO}: std 100 h, rr 0 h, tc 0 h, realtime 0 h, "
        "IPP limit 10 h, IPP available 5 h"
    )
    shared = with_proposal.run(
        "proposals",
        "allocate",
        "LCO2026B-001",
        "2026B",
        "--instrument-type",
        FLOYDS,
        "--instrument-type",
        MUSCAT,
        "--std",
        "20",
        "--rr",
        "2.5",
        "--tc",
        "1",
        "--realtime",
        "3",
        "--ipp-limit",
        "0",
        "--ipp-available",
        "0",
    )
    assert shared.exit_code == 0, shared.output
    allocations = with_proposal.proposals()["LCO2026B-001"].allocations
    assert [(a.instrument_types, a.std_allocation, a.ipp_limit, a.ipp_time_available) for a in allocations] == [
        ([SINISTRO], 100.0, 10.0, 5.0),
        ([FLOYDS, MUSCAT], 20.0, 0.0, 0.0),
    ]
    assert (allocations[1].rr_allocation, allocations[1].tc_allocation, allocations[1].realtime_allocation) == (
        2.5,
        1.0,
        3.0,
    )
    assert "2 allocations in 2026B" in with_proposal.run("proposals", "list").stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--instrument-type", "1M0-NOPE", "--std", "1"), "instrument_types: Unknown instrument type 1M0-NOPE"),
        (
            ("--instrument-type", SINISTRO, "--std", "-5"),
            "std_allocation: Ensure this value is greater than or equal to 0.",
        ),
        (
            ("--instrument-type", SINISTRO, "--ipp-available", "-1"),
            "ipp_time_available: Ensure this value is greater than or equal to 0.",
        ),
    ],
)
def test_allocations_with_unknown_types_or_negative_hours_are_refused(
    with_proposal: Db, extra: tuple[str, ...], message: str
) -> None:
    result = with_proposal.run("proposals", "allocate", "LCO2026B-001", "2026B", *extra)
    assert refused(result, message) == [f"error: {message}"]
    assert with_proposal.proposals()["LCO2026B-001"].allocations == []


def test_allocations_for_unknown_proposals_or_semesters_and_types_already_covered_are_refused(
    with_proposal: Db,
) -> None:
    allocate = ("--instrument-type", SINISTRO, "--std", "1")
    refused(with_proposal.run("proposals", "allocate", "NOPE", "2026B", *allocate), "NOPE")
    refused(with_proposal.run("proposals", "allocate", "LCO2026B-001", "1999A", *allocate), '"1999A"')
    assert with_proposal.run("proposals", "allocate", "LCO2026B-001", "2026B", *allocate).exit_code == 0
    again = with_proposal.run("proposals", "allocate", "LCO2026B-001", "2026B", *allocate)
    refused(again, f"Instrument type {SINISTRO} already has an allocation for proposal LCO2026B-001 in semester 2026B")
    assert len(with_proposal.proposals()["LCO2026B-001"].allocations) == 1


def test_staff_add_members_with_a_time_limit_in_hours(with_proposal: Db) -> None:
    result = with_proposal.run(
        "proposals", "add-member", "LCO2026B-001", "grace@example.org", "--time-limit-hours", "2.5"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "grace@example.org is CI of LCO2026B-001 (time limit 2.5 h)"
    promoted = with_proposal.run("proposals", "add-member", "LCO2026B-001", "carl", "--role", "pi")
    assert promoted.stdout.strip() == "carl is PI of LCO2026B-001 (time limit unlimited)"
    proposal = with_proposal.proposals()["LCO2026B-001"]
    assert sorted((m.role.value, m.time_limit_s) for m in proposal.memberships) == [
        ("CI", 9000),
        ("PI", -1),
        ("PI", -1),
    ]


def test_adding_an_unknown_user_or_role_is_refused(with_proposal: Db) -> None:
    refused(with_proposal.run("proposals", "add-member", "LCO2026B-001", "nobody"), "user: No user nobody")
    refused(with_proposal.run("proposals", "add-member", "LCO2026B-001", "grace", "--role", "boss"), '"boss"')
    assert len(with_proposal.proposals()["LCO2026B-001"].memberships) == 1


# ---------------------------------------------------------------------------------------------------------
# Users


def test_users_are_created_with_names_and_staff_view(db: Db) -> None:
    result = db.run(
        "users",
        "create",
        "ops",
        "--staff",
        "--staff-view",
        "--email",
        "ops@example.org",
        "--first-name",
        "Olga",
        "--last-name",
        "Ops",
        "--password-stdin",
        stdin="secret\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("created staff (staff view) user ops (id ")
    container = build_container(Settings(database_url=db.url))
    with container.uow_factory()() as uow:
        user = uow.users.get_by_username("ops")
    assert user is not None
    assert (user.first_name, user.last_name, user.is_staff, user.staff_view) == ("Olga", "Ops", True, True)


def test_staff_view_without_staff_is_refused(db: Db) -> None:
    result = db.run("users", "create", "viewer", "--staff-view", "--password-stdin", stdin="secret\n")
    refused(result, "profile.staff_view: Only staff may set staff_view")


# ---------------------------------------------------------------------------------------------------------
# TAC imports


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


TAC_CSV = """\
id,pi,title,abstract,tac_priority,tac_rank,public,semester,instrument_types,std_allocation,rr_allocation,tc_allocation,realtime_allocation,ipp_limit,ipp_time_available
TAC-001,ada,Supernova light curves,Type Ia,20,1,false,2026B,1M0-SCICAM-SINISTRO,100,10,5,,,
TAC-001,,,,,,,2026B,2M0-FLOYDS-SCICAM|2M0-SCICAM-MUSCAT,12.5,,,,2,1
TAC-002,grace;carl,Exoplanet transits,,10,2,yes,2026B,0M4-SCICAM-QHY600,40,,,,,
"""


def test_a_csv_tac_result_groups_rows_by_proposal_and_converts_cells(with_semester: Db, tmp_path: Path) -> None:
    result = with_semester.run("proposals", "import", write(tmp_path, "tac.csv", TAC_CSV))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("proposals created 2, proposals updated 0, allocations 3")
    stored = with_semester.proposals()
    first, second = stored["TAC-001"], stored["TAC-002"]
    assert (first.title, first.abstract, first.tac_priority, first.tac_rank, first.public) == (
        "Supernova light curves",
        "Type Ia",
        20,
        1,
        False,
    )
    assert [(a.instrument_types, a.std_allocation, a.ipp_limit, a.ipp_time_available) for a in first.allocations] == [
        ([SINISTRO], 100.0, 10.0, 5.0),
        ([FLOYDS, MUSCAT], 12.5, 2.0, 1.0),
    ]
    assert (first.allocations[0].rr_allocation, first.allocations[0].tc_allocation) == (10.0, 5.0)
    assert second.public is True
    assert len(second.pi_ids()) == 2


def test_a_json_tac_result_is_imported_and_an_existing_proposal_gains_allocations(
    with_proposal: Db, tmp_path: Path
) -> None:
    entries = [
        {
            "id": "LCO2026B-001",
            "pi": "ada",
            "tac_priority": 5,
            "allocations": [{"semester": "2026B", "instrument_types": [SINISTRO], "std_allocation": 8}],
        },
        {
            "id": "JSON-002",
            "pi": ["grace@example.org"],
            "title": "From JSON",
            "public": True,
            "tags": ["a", "b"],
            "allocations": [{"semester": "2026B", "instrument_types": "2M0-FLOYDS-SCICAM", "std_allocation": "3"}],
        },
    ]
    result = with_proposal.run("proposals", "import", write(tmp_path, "tac.json", json.dumps(entries)))
    assert result.exit_code == 0, result.output
    assert "proposals created 1, proposals updated 1, allocations 2" in result.stdout
    stored = with_proposal.proposals()
    assert stored["LCO2026B-001"].tac_priority == 5
    assert stored["LCO2026B-001"].allocations[0].std_allocation == 8.0
    assert stored["JSON-002"].tags == ["a", "b"]
    assert stored["JSON-002"].allocations[0].instrument_types == [FLOYDS]


def test_a_dry_run_reports_the_counts_and_writes_nothing(with_semester: Db, tmp_path: Path) -> None:
    result = with_semester.run("proposals", "import", write(tmp_path, "tac.csv", TAC_CSV), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("dry run, nothing written: would have imported")
    assert "proposals created 2" in result.stdout
    assert with_semester.proposals() == {}


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        (
            "id,pi,semester,instrument_types,std_allocation\nX-1,ada,2026B,1M0-SCICAM-SINISTRO,lots\n",
            ["line 2, column std_allocation: 'lots' is not a number of hours"],
        ),
        (
            "id,pi,tac_priority,public\nX-1,ada,high,maybe\n",
            ["line 2, column tac_priority: 'high' is not a whole number", "line 2, column public: 'maybe'"],
        ),
        ("id,pi,std_alocation\nX-1,ada,3\n", ["line 1: unknown column 'std_alocation'"]),
        ("pi,title\nada,No id\n", ["line 1: the header needs an 'id' column"]),
        (
            "id,pi,title\nX-1,ada,One\nX-1,ada,Two\n",
            ["line 3, column title: 'Two' differs from line 2 for proposal X-1"],
        ),
        ("id,pi,std_allocation\nX-1,ada,5\n", ["line 2, column semester: required on a row that allocates time"]),
        ("id,pi,title\nX-1,ada,One,extra\n", ["line 2: 4 cells but the header names 3 columns"]),
    ],
)
def test_unparsable_csv_cells_are_refused_naming_line_and_column(
    with_semester: Db, tmp_path: Path, text: str, messages: list[str]
) -> None:
    result = with_semester.run("proposals", "import", write(tmp_path, "tac.csv", text))
    lines = refused(result, *messages)
    assert lines[-1].startswith("nothing imported:")
    assert with_semester.proposals() == {}


def test_a_tac_result_with_one_bad_entry_is_refused_whole_naming_the_csv_lines(
    with_semester: Db, tmp_path: Path
) -> None:
    text = TAC_CSV + "TAC-003,nobody@example.org,Ghost,,,,,2026B,1M0-NOPE,5,,,,,\n"
    text += "TAC-004,ada,Negative,,,,,2026B,1M0-SCICAM-SINISTRO,-3,,,,,\n"
    result = with_semester.run("proposals", "import", write(tmp_path, "tac.csv", text))
    lines = refused(
        result,
        "line 5 (proposal TAC-003): pi: No user nobody@example.org",
        "line 6 (proposal TAC-004): std_allocation: Ensure this value is greater than or equal to 0.",
    )
    assert lines[-1].endswith("nothing imported: 2 problem(s) in " + str(tmp_path / "tac.csv"))
    # The good entries before the bad ones are not stored either.
    assert with_semester.proposals() == {}


def test_a_json_tac_result_with_bad_values_or_entries_is_refused_naming_the_entry(
    with_semester: Db, tmp_path: Path
) -> None:
    entries = [
        {"id": "J-1", "pi": "ada", "allocations": [{"semester": "2026B", "instrument_types": [SINISTRO]}]},
        {"id": "J-2", "pi": "ada", "allocations": [{"semester": "2026B", "std_allocation": "ten"}]},
        ["not", "an", "object"],
    ]
    result = with_semester.run("proposals", "import", write(tmp_path, "tac.json", json.dumps(entries)))
    refused(
        result,
        "entry 2, allocations[1], std_allocation: 'ten' is not a number of hours",
        "entry 3: expected an object",
    )
    unknown = [{"id": "J-1", "pi": "ada", "allocations": [{"semester": "2099A", "instrument_types": [SINISTRO]}]}]
    result = with_semester.run("proposals", "import", write(tmp_path, "tac.json", json.dumps(unknown)))
    refused(result, 'entry 1 (proposal J-1): semester: Invalid pk "2099A"')
    broken = with_semester.run("proposals", "import", write(tmp_path, "broken.json", "[{"))
    refused(broken, "not valid JSON")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,title\nJ-1,Caf\u00e9\n".encode("latin-1"))
    refused(with_semester.run("proposals", "import", str(latin)), "is not UTF-8 text")
    assert with_semester.proposals() == {}
