"""Reading a TAC result file (JSON or CSV) into ImportTacResult entries; errors name the line and column.

The application takes entries as typed dicts (``{"id", "pi", <proposal fields>, "allocations": [...]}``).
Files are text: this module turns cells and JSON values into those types and refuses what cannot be turned,
so that the rules themselves (hours >= 0, known instrument types, PIs that exist) stay in the domain.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from typing import Any

from attrs import frozen

from domain.proposals import HOUR_FIELDS, PROPOSAL_FIELDS

TEXT_FIELDS = ("title", "abstract", "sca", "notes")
BOOL_FIELDS = ("active", "public", "non_science", "direct_submission", "cis_see_all_requests")
INT_FIELDS = ("tac_priority", "tac_rank")
ALLOCATION_FIELDS = ("semester", "instrument_types", *HOUR_FIELDS)
ENTRY_FIELDS = ("id", "pi", *PROPOSAL_FIELDS)
CSV_COLUMNS = (*ENTRY_FIELDS, *ALLOCATION_FIELDS)
# Lists in one cell (PIs, instrument types, tags): ';' or '|', since ',' already separates the columns.
LIST_SEPARATOR = re.compile(r"[;|]")
TRUE = frozenset({"true", "yes", "y", "1", "t"})
FALSE = frozenset({"false", "no", "n", "0", "f"})


class TacFileError(Exception):
    """The file cannot be read as a TAC result; ``messages`` name where (line and column, or entry and key)."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


@frozen
class TacFile:
    """The entries of a TAC result, each with where it came from (``entry 2``, ``line 3``, ``lines 3, 4``)."""

    entries: tuple[dict[str, Any], ...]
    origins: tuple[str, ...]


class _BadValue(ValueError):
    """One value that does not have the wanted type; the text says what was expected."""


def read_tac_file(name: str, text: str) -> TacFile:
    """Parse by the file name's extension (.json, .csv), or by its first character when it has neither."""
    lowered = name.lower()
    if lowered.endswith(".json") or (not lowered.endswith(".csv") and text.lstrip()[:1] in ("[", "{")):
        return read_json(text)
    return read_csv(text)


# ---------------------------------------------------------------------------------------------------------
# Values


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _BadValue(f"{_show(value)} is not text")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _BadValue(f"{_show(value)} is not a boolean (use true or false)")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise _BadValue(f"{_show(value)} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _BadValue(f"{_show(value)} is not a whole number")


def _hours(value: Any) -> float:
    if isinstance(value, bool):
        raise _BadValue(f"{_show(value)} is not a number of hours")
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise _BadValue(f"{_show(value)} is not a number of hours")
    return number


def _list(value: Any) -> list[str]:
    """A list of names from a JSON list or a cell separated by ';' or '|'."""
    if isinstance(value, str):
        return [part.strip() for part in LIST_SEPARATOR.split(value) if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise _BadValue(f"{_show(value)} is not a list of names")


def _pis(value: Any) -> str:
    # The application reads PIs as one string separated by ';'.
    return ";".join(_list(value))


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "id": _text,
    "pi": _pis,
    "semester": _text,
    "instrument_types": _list,
    "tags": _list,
    **dict.fromkeys(TEXT_FIELDS, _text),
    **dict.fromkeys(BOOL_FIELDS, _bool),
    **dict.fromkeys(INT_FIELDS, _int),
    **dict.fromkeys(HOUR_FIELDS, _hours),
}


# ---------------------------------------------------------------------------------------------------------
# JSON: a list of entries


def read_json(text: str) -> TacFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise TacFileError([f"not valid JSON: {error}"]) from None
    if not isinstance(document, list):
        raise TacFileError(["expected a JSON list of proposal entries"])
    errors: list[str] = []
    entries: list[dict[str, Any]] = []
    for number, raw in enumerate(document, start=1):
        where = f"entry {number}"
        if not isinstance(raw, dict):
            errors.append(f"{where}: expected an object with id, pi, ... and allocations")
            continue
        entry = _convert(raw, ENTRY_FIELDS, where, errors, extra=("allocations",))
        allocations = raw.get("allocations", [])
        if not isinstance(allocations, list):
            errors.append(f"{where}, allocations: expected a list")
            allocations = []
        entry["allocations"] = []
        for index, allocation in enumerate(allocations, start=1):
            place = f"{where}, allocations[{index}]"
            if not isinstance(allocation, dict):
                errors.append(f"{place}: expected an object with semester, instrument_types and hours")
                continue
            entry["allocations"].append(_convert(allocation, ALLOCATION_FIELDS, place, errors))
        entries.append(entry)
    if errors:
        raise TacFileError(errors)
    return TacFile(tuple(entries), tuple(f"entry {n}" for n in range(1, len(entries) + 1)))


def _convert(
    raw: dict[str, Any], known: tuple[str, ...], where: str, errors: list[str], extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for key, value in raw.items():
        if key in extra:
            continue
        if key not in known:
            errors.append(f"{where}: unknown key {key!r} (known: {', '.join((*known, *extra))})")
            continue
        if value is None:
            continue
        try:
            converted[key] = CONVERTERS[key](value)
        except _BadValue as error:
            errors.append(f"{where}, {key}: {error}")
    return converted


# ---------------------------------------------------------------------------------------------------------
# CSV: one row per allocation, rows of one proposal id grouped into one entry


def read_csv(text: str) -> TacFile:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise TacFileError(["the file is empty: expected a header line naming the columns"]) from None
    except csv.Error as error:
        raise TacFileError([f"line 1: {error}"]) from None
    columns = [name.strip().lower() for name in header]
    errors = [
        f"line 1: unknown column {name!r} (known: {', '.join(CSV_COLUMNS)})"
        for name in columns
        if name and name not in CSV_COLUMNS
    ]
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    errors += [f"line 1: column {name!r} appears twice" for name in repeated]
    if "id" not in columns:
        errors.append("line 1: the header needs an 'id' column")
    if errors:
        raise TacFileError(errors)

    entries: dict[str, dict[str, Any]] = {}
    lines: dict[str, list[int]] = {}
    # Which line set each proposal field, to name both lines when two rows of one proposal disagree.
    set_on: dict[tuple[str, str], int] = {}
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise TacFileError([*errors, f"line {reader.line_num}: {error}"]) from None
        line = previous_end + 1
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            errors.append(f"line {line}: {len(row)} cells but the header names {len(columns)} columns")
            continue
        cells = {name: cell for name, cell in zip(columns, row, strict=False) if name and cell.strip()}
        values: dict[str, Any] = {}
        for name, cell in cells.items():
            try:
                values[name] = CONVERTERS[name](cell)
            except _BadValue as error:
                errors.append(f"line {line}, column {name}: {error}")
        proposal_id = values.get("id")
        if not proposal_id:
            if "id" not in cells:
                errors.append(f"line {line}, column id: a proposal id is required")
            continue
        entry = entries.setdefault(proposal_id, {"id": proposal_id, "allocations": []})
        lines.setdefault(proposal_id, []).append(line)
        for name in ("pi", *PROPOSAL_FIELDS):
            if name not in values:
                continue
            if name in entry and entry[name] != values[name]:
                first = set_on[(proposal_id, name)]
                errors.append(
                    f"line {line}, column {name}: {cells[name]!r} differs from line {first} for proposal {proposal_id}"
                )
                continue
            entry[name] = values[name]
            set_on.setdefault((proposal_id, name), line)
        allocation = {name: values[name] for name in ALLOCATION_FIELDS if name in values}
        if allocation:
            if "semester" not in allocation:
                errors.append(f"line {line}, column semester: required on a row that allocates time")
            elif "instrument_types" not in allocation:
                errors.append(f"line {line}, column instrument_types: required on a row that allocates time")
            else:
                entry["allocations"].append(allocation)
    if errors:
        raise TacFileError(errors)
    origins = []
    for proposal_id in entries:
        numbers = lines[proposal_id]
        origins.append(f"line{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}")
    return TacFile(tuple(entries.values()), tuple(origins))
