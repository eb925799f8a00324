"""The adversary once more, with what a real browser shows a trustee.

The small trust (counts of children mostly 1 to 4) is served by a real dashboard (``app.py``, as
``make run`` starts it) and read in headless Chromium by a trustee signed in with a password: every
page a trustee can open, for every term, as drawn. From each page the browser's own copy of what it
shows is kept: every figure as plotly holds it (points, hovers, custom data, lines), every table
(Streamlit's data grids read cell by cell as they are drawn, scrolled through to their last row and
column), every heading, sentence, caption and metric, and every file a download button hands over
(the CSVs, and the board pack as HTML, Excel and PDF, short and with its appendix). The same
readers as the AppTest adversary's (knowledge.py) turn it into facts, and every attack runs on them
together with everything the AppTest harvest gathered. It fails on any hidden count worked out, on
anything the readers cannot understand, and on any number in the PDF pack that its HTML pack (of
the same form) does not hold.

Needs Debian's Chromium at /usr/bin/chromium (skipped without it, except under CI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest

from tests.browser.conftest import ARGS, CHROMIUM, finished, require_chromium
from tests.helpers.network import free_port
from tests.privacy import attacks, harvest, knowledge
from tests.privacy.test_adversary import check

# The folder's readings are gathered once per worker: its files run together (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("privacy-readings")

require_chromium()

ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "trustee@trust.example.org", "a long trustee pass phrase"
PATHS = {"overview": "", "school": "school", "board_questions": "board-questions", "pack": "pack", "neglect": "neglect",
         "adolescents": "adolescents", "multi_agency": "multi-agency", "workforce": "workforce",
         "returns": "returns", "about": "about", "privacy": "privacy", "account": "account"}
BEHIND_THE_CHART = "The numbers behind this chart"

# Every element of the main area that shows something, in the order drawn.
ELEMENTS_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const kinds = ['stHeading', 'stMarkdown', 'stCaptionContainer', 'stAlert', 'stMetric', 'stCode', 'stText',
                 'stPlotlyChart', 'stDataFrame', 'stTable', 'stDownloadButton', 'stException'];
  const selector = kinds.map(k => `[data-testid="${k}"]`).join(', ');
  const plain = v => (ArrayBuffer.isView(v) ? Array.from(v) : Array.isArray(v) ? v.map(plain)
    : (v && typeof v === 'object') ? Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('_'))
        .map(([k, x]) => [k, plain(x)])) : v);
  return Array.from(main.querySelectorAll(selector))
    .filter(el => !kinds.some(k => el.parentElement.closest(`[data-testid="${k}"]`)))
    .map((el, i) => {
      el.setAttribute('data-harvest', String(i));
      const kind = el.getAttribute('data-testid');
      const expander = el.closest('[data-testid="stExpander"]');
      const out = {i, kind, expander: expander ? expander.querySelector('summary').innerText.trim() : null};
      if (kind === 'stPlotlyChart') {
        const gd = el.querySelector('.js-plotly-plot');
        out.figure = gd ? {data: plain(gd.data), layout: plain(gd.layout)} : null;
      } else if (kind === 'stTable') {
        out.rows = Array.from(el.querySelectorAll('tr')).map(r => Array.from(r.cells).map(c => c.innerText.trim()));
        const body = Array.from(el.querySelectorAll('tbody tr'));
        out.index = body.length > 0 && body.every(r => r.cells.length && r.cells[0].tagName === 'TH');
      } else if (kind === 'stHeading') {
        const h = el.querySelector('h1, h2, h3, h4, h5, h6');
        out.level = h ? h.tagName.toLowerCase() : 'h3';
        out.text = (h || el).innerText.trim();
      } else if (kind === 'stMetric') {
        const label = el.querySelector('[data-testid="stMetricLabel"]');
        const value = el.querySelector('[data-testid="stMetricValue"]');
        out.label = label ? label.innerText.trim() : '';
        out.text = value ? value.innerText.trim() : el.innerText.trim();
      } else if (kind === 'stDownloadButton') {
        out.text = el.innerText.trim();
      } else if (kind !== 'stDataFrame') {
        out.text = el.innerText.trim();
      }
      return out;
    });
}"""

# A data grid is drawn on a canvas; what it shows is also kept, for screen readers, in a table of
# the cells in view. Scroll it through and keep each cell by its row and column.
GRID_JS = """async (el) => {
  // the grid mounts its table of cells a moment after the element itself appears
  for (let wait = 0; wait < 150 && !el.querySelector('table'); wait++) await new Promise(done => setTimeout(done, 100));
  const table = el.querySelector('table');
  const scroller = el.querySelector('.dvn-scroller') || el;
  const rows = Number(table.getAttribute('aria-rowcount')), cols = Number(table.getAttribute('aria-colcount'));
  const cells = {};
  const grab = () => table.querySelectorAll('tr').forEach(tr => {
    const r = tr.getAttribute('aria-rowindex');
    Array.from(tr.children).forEach(c => { cells[`${r},${c.getAttribute('aria-colindex')}`] = c.textContent; });
  });
  // after a scroll, wait until the grid has drawn the rows and columns now in view (at most 300 ms,
  // as long as a column wider than half the view may leave them unchanged); not at all where the
  // grid could not scroll further
  const inView = () => Array.from(table.querySelectorAll('tr'), tr => tr.getAttribute('aria-rowindex') + ':' +
    Array.from(tr.children, c => c.getAttribute('aria-colindex')).join(',')).join('|');
  const frame = () => new Promise(done => requestAnimationFrame(() => done()));
  const scrollTo = async (x, y) => {
    const [left, top, drawn] = [scroller.scrollLeft, scroller.scrollTop, inView()];
    scroller.scrollTo(x, y);
    if (scroller.scrollLeft === left && scroller.scrollTop === top) return;
    for (const start = performance.now(); inView() === drawn && performance.now() - start < 300;) await frame();
    await frame();
  };
  for (let y = 0; ; y += Math.max(40, scroller.clientHeight / 2)) {
    for (let x = 0; ; x += Math.max(40, scroller.clientWidth / 2)) {
      await scrollTo(x, y); grab();
      if (scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth - 1) break;
    }
    if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1) break;
  }
  scroller.scrollTo(0, 0);
  return {rows, cols, cells};
}"""


# Session-wide, not per module: the privacy folder's files share one worker and their tests may
# come in any order, and a module's fixtures are made again each time its tests resume.
@pytest.fixture(scope="session")
def served(small, tmp_path_factory):
    """The small trust behind a real dashboard, with a trustee's account."""
    from store import db
    from store.users import add_user

    folder = tmp_path_factory.mktemp("chromium_trustee")
    path = folder / "small.db"
    shutil.copy(small.path, path)
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    add_user(engine, EMAIL, role="trustee", password=PASSWORD, actor="test")
    db.dispose(engine)
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(folder), "DATABASE_URL": url, "LOAD_SAMPLE": "0"}
    log = open(folder / "app.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    app = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{app}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("the dashboard did not start: " + (folder / "app.log").read_text()[-2000:]) from None
                time.sleep(0.4)
        yield app
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def shown(served, small):
    """Everything Chromium shows the trustee, as harvest Items."""
    from playwright.sync_api import sync_playwright

    assert set(PATHS) == set(harvest.TRUSTEE_PAGES)
    items: list[harvest.Item] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
        # Save dialogs are for people; without one, Chromium saves a download as a file the test reads.
        context.add_init_script("delete window.showSaveFilePicker;")
        page = context.new_page()
        page.goto(served, wait_until="domcontentloaded")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password", exact=True).first.fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_function("document.body && document.body.innerText.includes('Signed in as')", timeout=60_000)
        for year, term in small.data.terms:
            for name, path in PATHS.items():
                for urn in sorted(small.data.school_names) if name == "school" else [None]:
                    # a school is named in the address as its picker shows it: "Name (URN)"
                    school = {"school": f"{small.data.school_names[urn]} ({urn})"} if urn else {}
                    page.goto(f"{served}/{path}?{urlencode({'year': year, 'term': term} | school)}",
                              wait_until="domcontentloaded")
                    _settled(page)
                    first = min(small.data.school_names, key=small.data.school_names.get)  # the picker's first
                    assert urn in (None, first) or urlencode(school) in page.url, f"{page.url} is not at {urn}"
                    where = f"the {name.replace('_', ' ')} page, {term} {year}" + (f", school {urn}" if urn else "")
                    where += " (in Chromium)"
                    if name == "pack":
                        items += _packs(page, where, year, term)
                    items += _read_page(page, where, year, term, name, urn)
        browser.close()
    return items


def _settled(page) -> None:
    page.wait_for_selector("h1", timeout=60_000)
    for _ in range(2):  # once more after expanders open and charts load their code
        finished(page)
        page.evaluate("""() => document.querySelectorAll('[data-testid="stExpander"] details:not([open]) > summary')
                         .forEach(summary => summary.click())""")


def _read_page(page, where: str, year: str, term: str, section: str, urn: str | None) -> list[harvest.Item]:
    """The page's elements in the order drawn, tied to their headings and charts as a reader ties them."""
    out, heading, title = [], "", ""
    section = "" if urn else section  # as the AppTest harvest files a school's page
    for el in page.evaluate(ELEMENTS_JS):
        kind = el["kind"]
        assert kind != "stException", f"{where}: {el.get('text', '')[:300]}"
        if kind == "stPlotlyChart":
            figure = harvest.decode_figure(el["figure"])
            title = _unbold(figure)
            out.append(harvest.Item("chart", f"{where}: chart \"{title}\"", figure, year, term, urn, title, section))
        elif kind == "stDataFrame" and not page.locator(f'[data-harvest="{el["i"]}"]').is_visible():
            continue  # the phone's copy of a chart's numbers, hidden at this width (AppTest reads both)
        elif kind in ("stTable", "stDataFrame"):
            frame = _table(el["rows"]) if kind == "stTable" else _grid(page, el["i"])
            if kind == "stTable" and el["index"]:  # a table's row labels: words, read as the page's words
                out.append(harvest.Item("text", f"{where}: row labels", "\n".join(frame.iloc[:, 0]), year, term, urn,
                                        heading, section))
                frame = frame.iloc[:, 1:]
            inside = title if BEHIND_THE_CHART in (el["expander"] or "") else heading
            out.append(harvest.Item("table", f"{where}: table under \"{inside}\"", frame, year, term, urn, inside,
                                    section))
        elif kind == "stDownloadButton":
            label = el["text"]
            with page.expect_download() as got:
                page.locator(f'[data-harvest="{el["i"]}"] button').click()
            content = Path(got.value.path()).read_bytes()
            out.append(harvest.Item("file", f"{where}: download \"{label}\"", content, year, term, urn, label, section))
        elif kind == "stMetric":
            out.append(harvest.Item("metric", f"{where}: metric \"{el['label']}\"", f"{el['label']}: {el['text']}",
                                    year, term, urn, heading, section))
        elif el.get("text"):
            if kind == "stHeading":
                heading, title = el["text"], ""
            out.append(harvest.Item("text", f"{where}: {kind}", el["text"], year, term, urn, heading, section))
    return out


def _unbold(figure: dict) -> str:
    """The figure's title as the app sent it: plotly.js holds it wrapped in bold tags once drawn."""
    title = figure.get("layout", {}).get("title")
    if isinstance(title, dict) and isinstance(title.get("text"), str):
        title["text"] = re.sub(r"</?b>", "", title["text"])
    return harvest.figure_title(figure)


def _table(rows: list[list[str]]) -> pd.DataFrame:
    rows = [r for r in rows if r]
    return pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()


def _grid(page, i: int) -> pd.DataFrame:
    grid = page.locator(f'[data-harvest="{i}"]')
    grid.scroll_into_view_if_needed()
    got = grid.evaluate(GRID_JS)
    cells = {tuple(int(n) for n in key.split(",")): text for key, text in got["cells"].items()}
    # the grid's counts run one past its last column and row (a column for row markers, a row
    # for the header); what was drawn must still reach every row and column it counts
    rows, cols = sorted({r for r, _ in cells}), sorted({c for _, c in cells})
    assert rows == list(range(1, len(rows) + 1)) and len(rows) >= got["rows"] - 1, (rows, got["rows"])
    assert cols == list(range(1, len(cols) + 1)) and len(cols) >= got["cols"] - 1, (cols, got["cols"])
    table = [[cells.get((r, c)) for c in cols] for r in rows]
    missing = [(r, c) for r in rows for c in cols if (r, c) not in cells]
    assert not missing, f"cells of a grid never drawn: {missing[:10]}"
    return pd.DataFrame(table[1:], columns=table[0])


def _packs(page, where: str, year: str, term: str) -> list[harvest.Item]:
    """Each format of the pack, short and with its appendix, made and downloaded as a trustee would;
    the HTML and Excel opened as the AppTest adversary opens them; the PDF's words kept beside the
    HTML's of the same form for the test below."""
    out = []
    for appendix in (False, True):
        box = page.locator(".st-key-pack_appendix input[type=checkbox]")
        if box.is_checked() != appendix:
            page.locator(".st-key-pack_appendix label").click()
            _settled(page)
        form = harvest.PACK_FORMS[appendix]
        for fmt, button in (("html", "make_html"), ("xlsx", "make_xlsx"), ("pdf", "make_pdf")):
            page.locator(f'.st-key-{button} button').click()
            page.locator(f'.st-key-get_{fmt} button').wait_for(timeout=180_000)
            with page.expect_download() as got:
                page.locator(f'.st-key-get_{fmt} button').click()
            content = Path(got.value.path()).read_bytes()
            assert ("_with_appendix." in got.value.suggested_filename) == appendix, got.value.suggested_filename
            pack = f"the {term} {year} board pack{form} from Chromium"
            if fmt == "html":
                out += harvest.html_items(content.decode("utf-8"), f"{pack} (HTML)", year, term)
                out.append(harvest.Item("pack", f"{where}: the html pack{form}, drawn", _drawn(page, content), year,
                                        term, None, f"html drawn{form}", "pack"))
            elif fmt == "xlsx":
                out += harvest.xlsx_items(content, f"{pack} (Excel)", year, term)
            out.append(harvest.Item("pack", f"{where}: the {fmt} pack{form}", content, year, term, None, f"{fmt}{form}",
                                    "pack"))
    return out


def _drawn(page, html: bytes) -> bytes:
    """The HTML pack as Chromium draws it, charts and their axes included: its words and numbers."""
    drawn = page.context.new_page()
    try:
        drawn.set_content(html.decode("utf-8"), wait_until="load")
        drawn.wait_for_timeout(500)
        text = drawn.evaluate("""() => document.body.innerText + '\\n' +
            Array.from(document.querySelectorAll('svg text')).map(t => t.textContent).join('\\n')""")
    finally:
        drawn.close()
    return text.encode("utf-8")


def test_chromium_shows_a_trustee_every_page_of_every_term_and_every_kind_of_thing(shown, small):
    terms = set(small.data.terms)
    for name in PATHS:
        seen = {(i.year, i.term) for i in shown if i.where.startswith(f"the {name.replace('_', ' ')} page")}
        assert seen == terms, name
    for kind in ("chart", "table", "text", "metric", "file", "pack"):
        assert any(i.kind == kind for i in shown), kind
    grids = [i for i in shown if i.kind == "table" and "(in Chromium)" in i.where]
    assert sum(len(i.data) for i in grids) > 100  # the grids were read to their last row


def test_nothing_chromium_shows_a_trustee_gives_back_a_hidden_count(shown, small):
    """Every route of the adversary, on what Chromium showed together with everything else a
    trustee receives."""
    from_browser = [i for i in shown if i.kind != "pack"]
    alone = knowledge.read_all(from_browser, small.data.school_names)
    assert not alone.unparsed, "\n".join(alone.unparsed[:30])
    k = knowledge.read_all(small.items + from_browser, small.data.school_names)
    ts = attacks.targets(small.data, k)
    assert ts
    leaks = (attacks.direct(k, ts) + attacks.totals(k, ts) + attacks.rates(k, ts) + attacks.other_terms(k, ts)
             + attacks.position(k, ts) + attacks.bounds(k, ts, attacks.Programme(k)))
    check(small, leaks)
    said = attacks.free_text(alone)
    assert not said, "\n".join(f"{route}: \"{text}\" ({why})" for route, text, why in said[:20])


def test_the_pdf_pack_holds_no_number_the_html_pack_does_not_show(shown):
    """The PDF is the HTML pack printed: every number in it is one the HTML pack shows when drawn
    (its words, tables, and charts with their axes), apart from the page numbers in its footer."""
    packs = {(i.year, i.term, i.title): i.data for i in shown if i.kind == "pack"}
    assert {fmt for _, _, fmt in packs} == {f"{fmt}{form}" for fmt in ("html", "html drawn", "xlsx", "pdf")
                                            for form in harvest.PACK_FORMS.values()}
    for (year, term, fmt), content in packs.items():
        if not fmt.startswith("pdf"):
            continue
        assert content[:5] == b"%PDF-"
        pages = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True,
                               check=True).stdout.decode("utf-8").split("\f")
        drawn = set(_numbers(packs[(year, term, fmt.replace("pdf", "html drawn"))].decode("utf-8")))
        extra = set()
        for number, text in enumerate(pages, 1):
            # the footer's page number ("3" or "3 of 12", alone on the last line)
            text = re.sub(rf"\n[^\S\n]*(?:Page )?{number}(?: of {len(pages) - 1})?[^\S\n]*\n?\Z", "\n", text.rstrip() + "\n")
            extra |= set(_numbers(text)) - drawn
        assert not extra, f"the {term} {year} PDF pack shows numbers its HTML pack does not: {sorted(extra)[:20]}"


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d[\d,]*(?:\.\d+)?", text)
