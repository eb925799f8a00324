"""Child data is refused wherever a workbook can hide it, with the place named and nothing kept.

Contract, for every place in every format: the file is refused whole (no values, no leads), its
bytes are not to be kept, the one problem is ``personal_data``, its message names the place in
words a DSL can follow and says what to do, and it never repeats the child's details. The same
places holding what a DSL really leaves there (a staff member's name as the author, the school's
name in a header, "Page 1 of 3", print areas, the template's own prompts) are never refused.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from loaders import check_return
from loaders.template import template_bytes
from tests.helpers.biff_builder import (
    chart_with_title,
    defined_name,
    first_page_header,
    note,
    summary,
    text_box,
    validation,
    xls_return,
)
from tests.helpers.workbooks import FIXTURES, ROOT, build_return

DOB = "Jayden Smith DOB 03/04/2015"
UPN_SPACED = "A123 4567 8901 2"
ADDRESS = "Tom Jones lives at 12 High Street, AB1 2CD"
SECRETS = ("Jayden", "Smith", "03/04/2015", "A123", "4567", "Tom Jones", "High Street", "AB1 2CD", "Amelia", "Ellis")


def refused_at(report, place: str, sheet: str | None = None, cell: str | None = None) -> str:
    """Assert the contract above; the message, for any further look."""
    assert report.refused and not report.keep_bytes and not report.valid, report.problems
    assert report.values == {} and report.leads == []
    (problem,) = report.problems
    assert problem.code == "personal_data", problem.message
    assert (problem.sheet, problem.cell) == (sheet, cell), problem.message
    message = problem.message
    assert message.startswith(f"This file appears to hold information about individual children: {place} looks "
                              "like a child's details ("), message
    assert message.endswith("and upload again. The file has not been kept.")
    assert not [s for s in SECRETS if s in message], message
    return message


def xlsx(finish, **build) -> bytes:
    return build_return(finish=finish, **build).data


def rewrite(data: bytes, change: dict[str, object]) -> bytes:
    """The .xlsx again with parts changed (a function of the old bytes) or added (bytes)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            fn = change.get(info.filename)
            dst.writestr(info.filename, fn(body) if callable(fn) else body)
        for name, body in change.items():
            if not callable(body) and name not in src.namelist():
                dst.writestr(name, body)
    return out.getvalue()


def sheet_part(data: bytes, title: str) -> str:
    book = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()
    titles = re.findall(r'<sheet name="([^"]*)"', book)
    return f"xl/worksheets/sheet{titles.index(title) + 1}.xml"


# --------------------------------------------------------------------------- .xlsx, one place at a time

def test_a_cell_comment():
    from openpyxl.comments import Comment

    data = xlsx(lambda wb: setattr(wb["Neglect"]["B4"], "comment", Comment(f"{DOB}, on a CP plan", "Robin Placeholder")))
    message = refused_at(check_return(data, "r.xlsx"), "a cell comment on Neglect!B4", "Neglect", "B4")
    assert "a date of birth" in message and "delete it" in message


def test_a_threaded_comment():
    """Excel 365's comments: a thread in its own part, tied to the sheet by a relationship."""
    data = build_return().data
    part = sheet_part(data, "Referrals")
    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    thread = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments xmlns="http://schemas.'
              b'microsoft.com/office/spreadsheetml/2018/threadedcomments"><threadedComment ref="C7" dT="2026-03-20T10:'
              b'00:00.00" personId="{00000000-0000-0000-0000-000000000001}" id="{00000000-0000-0000-0000-00000000000A}">'
              b"<text>Referred: " + UPN_SPACED.encode() + b"</text></threadedComment></ThreadedComments>")
    data = rewrite(data, {
        "xl/threadedComments/threadedComment1.xml": thread,
        rels: b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
              b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.microsoft.'
              b'com/office/2017/10/relationships/threadedComment" Target="../threadedComments/threadedComment1.xml"/>'
              b"</Relationships>",
    })
    message = refused_at(check_return(data, "r.xlsx"), "a cell comment on Referrals!C7", "Referrals", "C7")
    assert "(a UPN)" in message


@pytest.mark.parametrize("where", ["header", "footer"])
def test_a_page_header_or_footer(where):
    def finish(wb):
        ws = wb["Referrals"]
        (ws.oddHeader if where == "header" else ws.evenFooter).right.text = ADDRESS
    data = xlsx(finish)
    message = refused_at(check_return(data, "r.xlsx"), f"the page {where} of Referrals", "Referrals")
    assert "Header/Footer" in message


def test_a_defined_name_and_its_value():
    from openpyxl.workbook.defined_name import DefinedName

    by_name = xlsx(lambda wb: wb.defined_names.add(DefinedName("Jayden_Smith_DOB_030415", attr_text="Neglect!$B$5")))
    assert "Name Manager" in refused_at(check_return(by_name, "r.xlsx"), "a defined name")
    by_value = xlsx(lambda wb: wb.defined_names.add(DefinedName("Lookup", attr_text=f'"{DOB}"', hidden=True)))
    message = refused_at(check_return(by_value, "r.xlsx"), "a hidden defined name")
    assert "Name Manager does not list it" in message


def test_a_chart_title_and_its_labels():
    from openpyxl.chart import BarChart, Reference, Series

    def titled(wb):
        ws, chart = wb["Neglect"], BarChart()
        chart.title = "Amelia Brown, born 2014-05-01"
        chart.add_data(Reference(ws, min_col=2, min_row=5, max_row=8))
        ws.add_chart(chart, "E4")
    refused_at(check_return(xlsx(titled), "r.xlsx"), "the title of a chart on Neglect", "Neglect")

    def labelled(wb):
        ws, chart = wb["Inclusion"], BarChart()
        chart.series.append(Series(Reference(ws, min_col=2, min_row=5, max_row=8), title=UPN_SPACED))
        ws.add_chart(chart, "E4")
    refused_at(check_return(xlsx(labelled), "r.xlsx"), "a chart's labels on Inclusion", "Inclusion")


def _with_shape(data: bytes, shape_xml: bytes) -> bytes:
    """A drawing with one shape anchored at Neglect!D6, as Excel writes a text box or a picture."""
    part = sheet_part(data, "Neglect")
    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    drawing = (b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
               b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:twoCellAnchor><xdr:from>'
               b"<xdr:col>3</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>5</xdr:row><xdr:rowOff>0</xdr:rowOff>"
               b"</xdr:from><xdr:to><xdr:col>6</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>9</xdr:row><xdr:rowOff>0"
               b"</xdr:rowOff></xdr:to>" + shape_xml + b"<xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>")
    return rewrite(data, {
        "xl/drawings/drawing9.xml": drawing,
        rels: b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
              b'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing" '
              b'Target="../drawings/drawing9.xml"/></Relationships>',
        part: lambda xml: xml.replace(b"</worksheet>", b'<drawing xmlns:r="http://schemas.openxmlformats.org/'
                                                        b'officeDocument/2006/relationships" r:id="rId1"/></worksheet>'),
    })


def test_a_text_box():
    shape = (b'<xdr:sp><xdr:nvSpPr><xdr:cNvPr id="2" name="TextBox 1"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr>'
             b"<xdr:txBody><a:bodyPr/><a:p><a:r><a:t>Jayden Smith</a:t></a:r></a:p><a:p><a:r><a:t>DOB 03/04/2015"
             b"</a:t></a:r></a:p></xdr:txBody></xdr:sp>")
    data = _with_shape(build_return().data, shape)
    refused_at(check_return(data, "r.xlsx"), "a text box or shape on Neglect!D6", "Neglect", "D6")


def test_a_pictures_alternative_text():
    shape = (b'<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="3" name="Picture 2" descr="Photo of Ellis Moore, DOB 3.4.15"/>'
             b"<xdr:cNvPicPr/></xdr:nvPicPr></xdr:pic>")
    data = _with_shape(build_return().data, shape)
    refused_at(check_return(data, "r.xlsx"), "the alternative text of a picture or shape on Neglect!D6", "Neglect", "D6")


def test_a_data_validation_prompt_and_its_list():
    from openpyxl.worksheet.datavalidation import DataValidation

    def prompted(wb):
        rule = DataValidation(type="whole", prompt=ADDRESS, promptTitle="Who", showInputMessage=True)
        wb["Neglect"].add_data_validation(rule)
        rule.add("C9")
    message = refused_at(check_return(xlsx(prompted), "r.xlsx"), "the input message of a data validation on Neglect!C9",
                         "Neglect", "C9")
    assert "Data Validation" in message

    def listed(wb):
        rule = DataValidation(type="list", formula1=f'"{DOB},Amelia Brown"', errorTitle="x", error="Pick one")
        wb["Leads"].add_data_validation(rule)
        rule.add("B12")
    refused_at(check_return(xlsx(listed), "r.xlsx"), "the list of a data validation on Leads!B12", "Leads", "B12")


@pytest.mark.parametrize("field, words, value", [
    ("title", "the document's title", f"Chronology - {DOB}"),
    ("subject", "the document's subject", ADDRESS),
    ("creator", "the document's author field", "A123456789012"),
    ("lastModifiedBy", "the document's last-modified-by field", "Ellis Moore b. 03/04/2015"),
    ("keywords", "the document's tags (keywords)", "neglect, " + UPN_SPACED),
    ("description", "the document's comments field", "Child: Jayden Smith"),
    ("category", "the document's category", "Pupil name: Ellis"),
])
def test_a_core_document_property(field, words, value):
    data = xlsx(lambda wb: setattr(wb.properties, field, value))
    assert "File > Info > Properties" in refused_at(check_return(data, "r.xlsx"), words)


def test_an_app_property():
    data = rewrite(build_return().data, {"docProps/app.xml": lambda xml: xml.replace(
        b"</Properties>", b"<Company>Jayden Smith, 12 High Street, AB1 2CD</Company></Properties>")})
    refused_at(check_return(data, "r.xlsx"), "the document's company field")


@pytest.mark.parametrize("name, value", [("Child", "Ellis Moore"), ("Date of birth", "03/04/2015"),
                                         ("Reference", UPN_SPACED), ("Jayden Smith DOB 03.04.15", "yes")])
def test_a_custom_document_property(name, value):
    from openpyxl.packaging.custom import StringProperty

    data = xlsx(lambda wb: wb.custom_doc_props.append(StringProperty(name=name, value=value)))
    assert "Custom" in refused_at(check_return(data, "r.xlsx"), "a custom document property")


@pytest.mark.parametrize("name", ["Jayden Smith 03.04.15", "A123456789012", "Ellis DOB 030415", "JaydenSmith_2015-04-03"])
def test_a_sheet_name(name):
    message = refused_at(check_return(build_return(extra_sheets={name: [["Notes"]]}).data, "r.xlsx"),
                         "the name of sheet 8 of 8 (counting hidden sheets)")
    assert "rename that sheet" in message


def test_a_sheet_name_is_read_before_anything_that_would_name_that_sheet():
    from openpyxl.comments import Comment

    def finish(wb):
        ws = wb.create_sheet("Ellis Moore 3.4.15")
        ws["A1"] = "Pupil name"
        ws["B2"].comment = Comment(DOB, "x")
    refused_at(check_return(xlsx(finish), "r.xlsx"), "the name of sheet 8 of 8 (counting hidden sheets)")


def test_a_chart_sheets_name():
    from openpyxl.chart import BarChart, Reference

    def finish(wb):
        sheet = wb.create_chartsheet("Amelia b. 1.5.14")
        chart = BarChart()
        chart.add_data(Reference(wb["Neglect"], min_col=2, min_row=5, max_row=8))
        sheet.add_chart(chart)
    refused_at(check_return(xlsx(finish), "r.xlsx"), "the name of sheet 8 of 8 (counting hidden sheets)")


def test_an_excel_tables_name_and_its_hidden_header_row():
    from openpyxl.worksheet.table import Table

    def named(wb):
        ws = wb.create_sheet("Working")
        ws.append(["Ref", "Count"])
        ws.append(["a", 1])
        ws.add_table(Table(displayName="Jayden_Smith_DOB_030415", ref="A1:B2"))
    refused_at(check_return(xlsx(named), "r.xlsx"), "an Excel table on Working", "Working")

    def headless(wb):
        ws = wb.create_sheet("Working")
        ws.append(["Pupil name", "Count"])
        ws.append(["a", 1])
        ws.add_table(Table(displayName="Table1", ref="A1:B2"))
    data = xlsx(headless)
    # Excel can hide a table's header row: its column names then live in the table's part alone.
    data = rewrite(data, {sheet_part(data, "Working"): lambda xml: xml.replace(b"Pupil name", b"Ref")})
    message = refused_at(check_return(data, "r.xlsx"), "an Excel table on Working", "Working")
    assert "a field headed 'Pupil name'" in message


def test_a_pivot_tables_saved_copy_of_its_data():
    cache = (b'<pivotCacheDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             b'recordCount="1"><cacheSource type="worksheet"><worksheetSource ref="A1:B2" sheet="Deleted"/>'
             b'</cacheSource><cacheFields count="2"><cacheField name="Pupil name" numFmtId="0"><sharedItems>'
             b'<s v="Jayden Smith"/></sharedItems></cacheField><cacheField name="Concern" numFmtId="0"><sharedItems>'
             b'<s v="neglect"/></sharedItems></cacheField></cacheFields></pivotCacheDefinition>')
    data = rewrite(build_return().data, {"xl/pivotCache/pivotCacheDefinition1.xml": cache})
    message = refused_at(check_return(data, "r.xlsx"), "a pivot table's saved copy of its data")
    assert "a field headed 'Pupil name'" in message


def test_a_legacy_drawings_text():
    from openpyxl.comments import Comment

    data = xlsx(lambda wb: setattr(wb["Neglect"]["B4"], "comment", Comment("see the form", "Robin Placeholder")))
    vml = next(n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith(".vml"))
    data = rewrite(data, {vml: lambda xml: xml.replace(b"</xml>", b"<v:shape><v:textbox><div>" + ADDRESS.encode()
                                                             + b"</div></v:textbox></v:shape></xml>")})
    refused_at(check_return(data, "r.xlsx"), "a comment, note or form control on Neglect", "Neglect")


@pytest.mark.parametrize("state, ending", [
    ("hidden", "; Lookup is a hidden sheet. The return must hold counts only: remove that column"),
    ("veryHidden", "; Lookup is a very hidden sheet, which Excel's Unhide does not list. The return must hold counts "
                   "only: delete that sheet"),
])
@pytest.mark.parametrize("heading", ["Child", "Born", "Lives at"])
def test_a_hidden_or_very_hidden_sheet_headed_child_born_or_lives_at(state, ending, heading):
    def finish(wb):
        ws = wb.create_sheet("Lookup")
        for col, text in enumerate(["Ref", heading, "Concern"], 1):
            ws.cell(2, col, text)
        ws.sheet_state = state
    report = check_return(xlsx(finish), "r.xlsx")
    (problem,) = report.problems
    assert (problem.code, problem.sheet, problem.cell) == ("personal_data", "Lookup", "B2")
    assert f"Lookup!B2 is headed '{heading}'{ending}" in problem.message
    assert not report.keep_bytes


def test_free_text_in_a_notes_cell():
    report = check_return(build_return(extra_sheets={"Notes": [["Notes"], ["Moved in: Amelia Brown, born 2014-05-01"]]}).data,
                          "r.xlsx")
    (problem,) = report.problems
    assert (problem.code, problem.sheet, problem.cell) == ("personal_data", "Notes", "A2")
    assert "Notes!A2 holds what looks like a child's details (a date of birth)" in problem.message
    assert "Amelia" not in problem.message and not report.keep_bytes


@pytest.mark.parametrize("upn", [UPN_SPACED, "A-1234-5678-9012", "a1234 5678 9012"])
def test_a_upn_written_with_spaces_or_dashes_in_a_cell(upn):
    values = {"training.whole_staff.in_scope": 64}
    report = check_return(build_return(values=values, extra_sheets={"Working": [["Ref", upn]]}).data, "r.xlsx")
    assert report.refused and report.problems[0].cell == "B1" and "(a UPN)" in report.problems[0].message


def test_the_files_own_name():
    data = build_return().data
    report = check_return(data, "Jayden Smith DOB 03-04-2015 chronology.xlsx")
    message = refused_at(report, "the file's name")
    assert "rename the file" in message
    assert check_return(data, "Otterbrook spring return 2025-26 (Robin Placeholder).xlsx").valid


# --------------------------------------------------------------------------- .ods

def _tables(doc):
    from odf.table import Table

    return {t.getAttribute("name"): t for t in doc.spreadsheet.getElementsByType(Table)}


def _ods_cell(doc, sheet: str, row: int, col: int):
    from odf.table import TableCell, TableRow

    return _tables(doc)[sheet].getElementsByType(TableRow)[row].getElementsByType(TableCell)[col]


def ods(finish) -> bytes:
    return build_return(fmt="ods", finish=finish).data


def test_an_ods_comment():
    from odf import dc, office, text

    def finish(doc):
        note = office.Annotation()
        note.addElement(dc.Creator(text="Robin Placeholder"))
        note.addElement(dc.Date(text="2026-03-20T10:00:00"))
        note.addElement(text.P(text=DOB))
        _ods_cell(doc, "Neglect", 5, 1).addElement(note)
    refused_at(check_return(ods(finish), "r.ods"), "a comment on Neglect!B6", "Neglect", "B6")


def test_an_ods_page_header():
    from odf import style, text

    def finish(doc):
        layout = style.PageLayout(name="Mpm9")
        doc.automaticstyles.addElement(layout)
        page = style.MasterPage(name="Referrals_page", pagelayoutname=layout)
        header = style.Header()
        header.addElement(text.P(text=f"Working copy {UPN_SPACED}"))
        page.addElement(header)
        footer = style.Footer()
        numbered = text.P(text="Page ")
        numbered.addElement(text.PageNumber(text="1"))
        footer.addElement(numbered)
        page.addElement(footer)
        doc.masterstyles.addElement(page)
        table_style = style.Style(name="ta9", family="table", masterpagename="Referrals_page")
        doc.automaticstyles.addElement(table_style)
        _tables(doc)["Referrals"].setAttribute("stylename", table_style)
    refused_at(check_return(ods(finish), "r.ods"), "the page header of Referrals", "Referrals")


def test_an_ods_named_range():
    from odf import table

    def finish(doc):
        names = table.NamedExpressions()
        names.addElement(table.NamedRange(name="Jayden_Smith_DOB_030415", cellrangeaddress="$Neglect.$B$5",
                                          basecelladdress="$Neglect.$B$5"))
        doc.spreadsheet.addElement(names)
    refused_at(check_return(ods(finish), "r.ods"), "a named range or database range")


def test_an_ods_database_range():
    from odf import table

    def finish(doc):
        ranges = table.DatabaseRanges()
        ranges.addElement(table.DatabaseRange(name="Ellis_Moore_DOB_030415", targetrangeaddress="Neglect.A5:B9"))
        doc.spreadsheet.addElement(ranges)
    refused_at(check_return(ods(finish), "r.ods"), "a named range or database range")


def test_an_ods_validity_message():
    from odf import table, text

    def finish(doc):
        rules = table.ContentValidations()
        rule = table.ContentValidation(name="val1", condition="of:cell-content-is-whole-number()",
                                       basecelladdress="Neglect.B6")
        helped = table.HelpMessage(title="Who", display="true")
        helped.addElement(text.P(text=ADDRESS))
        rule.addElement(helped)
        rules.addElement(rule)
        doc.spreadsheet.insertBefore(rules, doc.spreadsheet.firstChild)
    refused_at(check_return(ods(finish), "r.ods"), "the input help of a validity check on Neglect!B6", "Neglect", "B6")


def test_an_ods_text_box():
    from odf import draw, table, text

    def finish(doc):
        shapes, frame, box = table.Shapes(), draw.Frame(width="4cm", height="2cm", x="1cm", y="1cm"), draw.TextBox()
        box.addElement(text.P(text="Amelia Brown, born 2014-05-01"))
        frame.addElement(box)
        shapes.addElement(frame)
        neglect = _tables(doc)["Neglect"]
        neglect.insertBefore(shapes, neglect.firstChild)
    refused_at(check_return(ods(finish), "r.ods"), "a text box or shape on Neglect", "Neglect")


def test_an_ods_chart_title():
    from odf import chart, draw, table, text
    from odf.opendocument import OpenDocumentChart

    def finish(doc):
        sub = OpenDocumentChart()
        body = chart.Chart(width="8cm", height="6cm", attributes={"class": "chart:bar"})
        title = chart.Title()
        title.addElement(text.P(text=DOB))
        body.addElement(title)
        body.addElement(chart.PlotArea())
        sub.chart.addElement(body)
        name = doc.addObject(sub)
        shapes, frame = table.Shapes(), draw.Frame(width="8cm", height="6cm", x="1cm", y="1cm")
        frame.addElement(draw.Object(href=name))
        shapes.addElement(frame)
        inclusion = _tables(doc)["Inclusion"]
        inclusion.insertBefore(shapes, inclusion.firstChild)
    refused_at(check_return(ods(finish), "r.ods"), "the title of a chart on Inclusion", "Inclusion")


def test_ods_document_properties():
    from odf import dc, meta

    described = ods(lambda doc: doc.meta.addElement(dc.Description(text="Ellis Moore d.o.b. 3 April 2015")))
    refused_at(check_return(described, "r.ods"), "the document's comments field")
    custom = ods(lambda doc: doc.meta.addElement(meta.UserDefined(name="Pupil", text="Ellis Moore")))
    refused_at(check_return(custom, "r.ods"), "a custom document property")


def test_an_ods_sheet_name():
    data = build_return(fmt="ods", extra_sheets={"Ellis Moore 03.04.15": [["x"]]}).data
    refused_at(check_return(data, "r.ods"), "the name of sheet 8 of 8 (counting hidden sheets)")


# --------------------------------------------------------------------------- .xls

def test_an_xls_note():
    data = xls_return(sheet_records={3: note(3, 1, 1, DOB)})
    refused_at(check_return(data, "r.xls"), "a cell comment on Neglect!B4", "Neglect", "B4")


def test_an_xls_text_box():
    data = xls_return(sheet_records={3: text_box(2, f"Ref {UPN_SPACED}")})
    refused_at(check_return(data, "r.xls"), "a text box or shape on Neglect", "Neglect")


def test_an_xls_page_header_and_footer():
    def header(wb):
        wb.get_sheet(4).header_str = f"&L{ADDRESS}&RPage &P".encode("latin-1")  # xlwt takes bytes here
    refused_at(check_return(build_return(fmt="xls", finish=header).data, "r.xls"), "the page header of Referrals", "Referrals")

    def footer(wb):
        wb.get_sheet(4).footer_str = f"&C{DOB}".encode("latin-1")
    refused_at(check_return(build_return(fmt="xls", finish=footer).data, "r.xls"), "the page footer of Referrals", "Referrals")


def test_an_xls_first_page_header():
    data = xls_return(sheet_records={5: [first_page_header(f"&C{UPN_SPACED}")]})
    refused_at(check_return(data, "r.xls"), "the page header of Inclusion", "Inclusion")


def test_an_xls_defined_name():
    refused_at(check_return(xls_return(globals_records=[defined_name("Jayden_Smith_DOB_030415", "x")]), "r.xls"),
               "a defined name")
    hidden = xls_return(globals_records=[defined_name("Lookup", DOB, hidden=True)])
    refused_at(check_return(hidden, "r.xls"), "a hidden defined name")


def test_an_xls_data_validation():
    prompted = xls_return(sheet_records={3: validation(8, 2, prompt_title="Who", prompt=ADDRESS)})
    refused_at(check_return(prompted, "r.xls"), "the input message of a data validation on Neglect!C9", "Neglect", "C9")
    listed = xls_return(sheet_records={2: validation(11, 1, choices=[DOB, "Amelia Brown"])})
    refused_at(check_return(listed, "r.xls"), "the list of a data validation on Leads!B12", "Leads", "B12")


def test_an_xls_chart_title():
    data = xls_return(sheet_records={3: chart_with_title("Amelia Brown, born 2014-05-01")})
    refused_at(check_return(data, "r.xls"), "a chart's title or labels on Neglect", "Neglect")


@pytest.mark.parametrize("fields, words", [
    ({"title": f"Chronology {DOB}"}, "the document's title"),
    ({"author": "A123456789012"}, "the document's author field"),
    ({"comments": ADDRESS}, "the document's comments field"),
    ({"company": "Child: Ellis Moore"}, "the document's company field"),
    ({"custom": {"Child": "Ellis Moore"}}, "a custom document property"),
])
def test_xls_document_properties(fields, words):
    refused_at(check_return(xls_return(properties=summary(**fields)), "r.xls"), words)


def test_an_xls_sheet_name_and_a_very_hidden_sheet():
    named = build_return(fmt="xls", extra_sheets={"Jayden Smith 03.04.15": [["x"]]}).data
    refused_at(check_return(named, "r.xls"), "the name of sheet 8 of 8 (counting hidden sheets)")

    def very_hidden(wb):
        sheet = wb.add_sheet("zz")
        sheet.write(0, 0, "Lives at")
        sheet.visibility = 2
    report = check_return(build_return(fmt="xls", finish=very_hidden).data, "r.xls")
    assert report.refused and "zz!A1 is headed 'Lives at'; zz is a very hidden sheet" in report.problems[0].message


# --------------------------------------------------------------------------- what a DSL really leaves is not refused

def test_what_a_dsl_really_leaves_in_each_place_is_not_refused():
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    def finish(wb):
        wb.properties.creator, wb.properties.lastModifiedBy = "Robin Placeholder", "Morgan Testperson"
        wb.properties.title, wb.properties.subject = "Spring return 2025/26", "Otterbrook Fictional Primary Academy"
        wb.properties.keywords, wb.properties.category = "safeguarding; termly return", "Returns"
        wb.properties.description = "Figures checked by Robin Placeholder on 27/03/2026 with the head."
        wb.custom_doc_props.append(StringProperty(name="Checked by", value="Morgan Testperson"))
        wb.custom_doc_props.append(StringProperty(name="Date completed", value="27/03/2026"))
        ws = wb["Neglect"]
        ws.oddHeader.left.text, ws.oddHeader.right.text = "Otterbrook Fictional Primary Academy", "&D"
        ws.oddFooter.center.text = "Page &P of &N - &F"
        ws["B5"].comment = Comment("Robin Placeholder:\nTwo families moved in during February; see Early Help 12/03/2026.",
                                   "Robin Placeholder")
        rule = DataValidation(type="whole", prompt="Enter a whole number. Checked 14/01/2026.", promptTitle="Count")
        ws.add_data_validation(rule)
        rule.add("B6")
        wb.defined_names.add(DefinedName("Neglect_counts", attr_text="Neglect!$B$5:$B$11"))
        chart = BarChart()
        chart.title = "Neglect flags, Spring 2026"
        chart.add_data(Reference(ws, min_col=2, min_row=5, max_row=11))
        ws.add_chart(chart, "E4")
        wb["Training"]["D5"] = "Refresher booked for 14/04/2026 with the local authority, 1 Civic Way, AB1 2CD."
        wb.create_sheet("Notes 2025-26")["A1"] = "Spring term: Robin Placeholder (DSL) on leave 03/02/2026 to 14/02/2026."
    report = check_return(xlsx(finish), "Otterbrook spring 2026 - Robin Placeholder.xlsx")
    assert not report.refused and report.valid, report.problems[:1]


def test_staff_details_in_an_ods_and_an_xls_are_not_refused():
    from odf import dc, meta

    def described(doc):
        doc.meta.addElement(dc.Title(text="Spring return 2025/26"))
        doc.meta.addElement(meta.InitialCreator(text="Robin Placeholder"))
        doc.meta.addElement(dc.Creator(text="Morgan Testperson"))
        doc.meta.addElement(meta.UserDefined(name="Checked by", text="Robin Placeholder"))
    assert check_return(ods(described), "r.ods").valid
    properties = summary(author="Robin Placeholder", last_author="Morgan Testperson", title="Spring return 2025/26",
                         company="Otterbrook Academy Trust", custom={"Checked by": "Robin Placeholder"})
    data = xls_return(properties=properties, sheet_records={3: note(4, 1, 1, "Robin Placeholder:\nchecked 27/03/2026")})
    assert check_return(data, "r.xls").valid


CLEAN_FILES = sorted((ROOT / "sample_data" / "returns").glob("*.xlsx")) + sorted(
    p for p in FIXTURES.iterdir() if p.suffix in (".xlsx", ".xls", ".ods") and not p.name.startswith("password"))


@pytest.mark.parametrize("path", CLEAN_FILES, ids=lambda p: p.name)
def test_no_sample_return_or_fixture_is_refused_for_child_data(path: Path):
    report = check_return(path.read_bytes(), path.name)
    assert not any(p.code == "personal_data" for p in report.problems), report.problems[:1]
    assert report.keep_bytes


def test_the_blank_template_and_a_filled_one_are_not_refused():
    assert not check_return(template_bytes(), "blank.xlsx").refused
    filled = template_bytes(urn=149001, school_name="Larchmere Fictional Academy", year="2025/26", term="Spring")
    assert not check_return(filled, "safeguarding_return_149001_2025-26_Spring.xlsx").refused


# --------------------------------------------------------------------------- any detail, any place

def _xlsx_comment(text):
    from openpyxl.comments import Comment

    return xlsx(lambda wb: setattr(wb["Referrals"]["C9"], "comment", Comment(text, "Robin Placeholder"))), "r.xlsx"


def _xlsx_footer(text):
    def finish(wb):
        wb["Inclusion"].oddFooter.left.text = text
    return xlsx(finish), "r.xlsx"


def _xlsx_subject(text):
    return xlsx(lambda wb: setattr(wb.properties, "subject", text)), "r.xlsx"


def _ods_comment(text):
    from odf import office
    from odf import text as odf_text

    def finish(doc):
        note = office.Annotation()
        note.addElement(odf_text.P(text=text))
        _ods_cell(doc, "Training", 5, 1).addElement(note)
    return ods(finish), "r.ods"


def _xls_note(text):
    return xls_return(sheet_records={1: note(5, 1, 1, text)}), "r.xls"


def _xls_keywords(text):
    return xls_return(properties=summary(keywords=text)), "r.xls"


HIDING_PLACES = [_xlsx_comment, _xlsx_footer, _xlsx_subject, _ods_comment, _xls_note, _xls_keywords]


def _detail():
    from datetime import date as day

    from hypothesis import strategies as st

    names = st.sampled_from(["Jayden Smith", "Amelia Brown", "Oliver Nowak", "Aisha Begum", "Zara Okafor"])
    born = st.tuples(names, st.sampled_from(["DOB", "born", "d.o.b.", "date of birth:"]),
                     st.dates(day(2008, 1, 1), day(2022, 12, 31)), st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%y"]))
    upn = st.tuples(st.sampled_from("ABKT"), st.text("0123456789", min_size=12, max_size=12), st.sampled_from([" ", "-", ""]))
    return st.one_of(
        born.map(lambda b: (f"{b[0]} {b[1]} {b[2].strftime(b[3])}", [b[0].split()[0], b[2].strftime(b[3])])),
        upn.map(lambda u: (f"Ref {u[0]}{u[1][:3]}{u[2]}{u[1][3:7]}{u[2]}{u[1][7:]}", [u[1][3:7]])),
        names.map(lambda n: (f"{n} lives at 7 Mill Lane, ZX9 8YW", [n.split()[0], "Mill Lane", "ZX9 8YW"])),
    )


def test_any_childs_details_in_any_hiding_place_are_refused_and_never_repeated():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=36, deadline=None, derandomize=True, database=None)
    @given(st.sampled_from(HIDING_PLACES), _detail())
    def check(place, detail):
        text, parts = detail
        data, name = place(text)
        report = check_return(data, name)
        assert report.refused and not report.keep_bytes, (place.__name__, text)
        (problem,) = report.problems
        assert problem.code == "personal_data"
        assert not [p for p in parts if p in problem.message], problem.message

    check()


def test_a_place_on_a_sheet_named_like_a_person_is_spoken_of_by_the_sheets_number():
    from openpyxl.comments import Comment

    def finish(wb):
        wb.create_sheet("Amelia Brown")["C3"].comment = Comment(DOB, "Robin Placeholder")
    report = check_return(xlsx(finish), "r.xlsx")
    message = refused_at(report, "a cell comment on C3 of sheet 8 of 8 (counting hidden sheets)")
    assert "Amelia" not in message and report.problems[0].where == "the file"
