"""The public API others code against: check_return and check_file, and the report they return.

Contract: whatever the bytes, check_return returns a ReturnReport and never raises; once the
cells could be read, ``values`` holds every measure id its template version asks with its
contract type (blank as None); a refused file has no values; ``sha256`` is the hex digest of the bytes.
"""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from datetime import date

import pytest

from loaders import check_file, check_return, registry
from loaders.report import ReturnReport
from tests.helpers.workbooks import BLANK, build_return

TYPES = {registry.COUNT: int, registry.INTEGER: int, registry.TEXT: str, registry.DATE: date,
         registry.URN: str, registry.YEAR: str, registry.TERM: str, registry.PHASE: str}


def test_values_hold_every_measure_with_its_contract_type(valid_xlsx):
    report = check_return(valid_xlsx.data, "return.xlsx")
    assert set(report.values) == set(registry.MEASURES_BY_ID)
    for m in registry.MEASURES:
        assert type(report.values[m.id]) is TYPES[m.type], m.id
    assert report.values["about.urn"] == "999001" and report.values["about.template_version"] == 2


def test_an_invalid_return_still_reports_every_measure_id():
    report = check_return(build_return(values={"inclusion.suspended": "lots", "neglect.new_flags": BLANK}).data, "r")
    assert not report.valid
    assert set(report.values) == set(registry.MEASURES_BY_ID)
    assert report.values["inclusion.suspended"] is None and report.values["neglect.new_flags"] is None


def test_sha256_is_the_digest_of_the_bytes(valid_xlsx):
    report = check_return(valid_xlsx.data, "return.xlsx")
    assert report.sha256 == hashlib.sha256(valid_xlsx.data).hexdigest()
    assert check_return(b"junk", "junk.txt").sha256 == hashlib.sha256(b"junk").hexdigest()


def test_keep_bytes_is_false_only_for_child_level_data(valid_xlsx):
    assert check_return(valid_xlsx.data, "r.xlsx").keep_bytes
    assert check_return(b"junk", "r.xlsx").keep_bytes
    child = build_return(hidden_sheets={"x": [["Date of birth"]]}).data
    assert not check_return(child, "r.xlsx").keep_bytes


def test_check_file_reads_the_file_and_names_it_by_its_name(tmp_path, valid_xlsx):
    path = tmp_path / "Otterbrook spring.xlsx"
    path.write_bytes(valid_xlsx.data)
    from_file = check_file(path)
    direct = check_return(valid_xlsx.data, "Otterbrook spring.xlsx")
    assert from_file.file == "Otterbrook spring.xlsx"
    assert from_file.as_json() == direct.as_json() and from_file.sha256 == direct.sha256
    assert check_file(str(path), previous={"neglect.active_flags": 1}).queries


def test_check_file_refuses_an_oversized_file_by_its_size(tmp_path):
    path = tmp_path / "big.xlsx"
    path.write_bytes(bytes(300_000))
    report = check_file(path, max_bytes=100_000)
    assert report.refused and report.problems[0].code == "file_too_large"
    assert report.sha256 == hashlib.sha256(bytes(300_000)).hexdigest()


def test_check_file_on_a_folder_or_nothing_is_a_problem_not_an_exception(tmp_path):
    assert check_file(tmp_path).problems[0].code == "not_a_file"
    assert check_file(tmp_path / "absent.xlsx").problems[0].code == "file_not_found"


def test_max_bytes_is_honoured(valid_xlsx):
    assert check_return(valid_xlsx.data, "r", max_bytes=len(valid_xlsx.data)).valid
    assert check_return(valid_xlsx.data, "r", max_bytes=len(valid_xlsx.data) - 1).refused


def test_a_sheet_calamine_cannot_parse_is_an_unreadable_file():
    data = build_return().data
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"</sheetData>", b"<row><c><v>1</c></row></sheetData>")
            dst.writestr(info.filename, body)
    report = check_return(out.getvalue(), "r.xlsx")
    assert report.refused and report.problems[0].code in {"unreadable", "damaged"}
    assert "open it in Excel" in report.problems[0].message


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_corrupted_bytes_never_raise(fmt):
    data = build_return(fmt=fmt).data
    rng = random.Random(fmt)
    for _ in range(25):
        broken = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            broken[rng.randrange(len(broken))] = rng.randrange(256)
        report = check_return(bytes(broken), f"r.{fmt}")
        assert isinstance(report, ReturnReport)
        assert report.refused or set(report.values) == registry.ASKED_IDS[report.version]
