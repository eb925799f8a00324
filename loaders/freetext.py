"""Read free text (a note, a comment, a header, a document property) for a child's details.

A return's own words never hold a Unique Pupil Number (however it is spaced), a date written
after "DOB" or "born", a person's name right beside a child's date of birth, or a name beside a
home address. Each rule needs its own signal (a marker, a name beside the date, a postcode or
"lives at"), so a governance date, "Date completed", a staff member's name or the template's
"for example 14/01/2026" never trips it.
"""

from __future__ import annotations

import re
from datetime import date

UPN_KIND = "a UPN"
BIRTH_KIND = "a date of birth"
NAMED_BIRTH_KIND = "a name beside a date of birth"
ADDRESS_KIND = "a home address"
NAMED_ADDRESS_KIND = "a name beside an address"
LABELLED_KIND = "a name after a heading such as 'Pupil:'"

# A UPN is a check letter then 12 digits (a temporary one ends in a letter); people copy it
# with single spaces, dashes or dots between its characters.
UPN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:\d{12}|\d{11}[A-Za-z])(?![A-Za-z0-9])")
SPACED_UPN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][ .\-]?(?:\d[ .\-]?){11}[0-9A-Za-z](?![A-Za-z0-9])")

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_NUM_MONTH = r"(?:0?[1-9]|1[0-2])"
# A full date as people type one: 03/04/2015, 3.4.15, 03-04-2015, 03 04 2015, 2015-04-03,
# 3rd April 2015, April 3, 2015. The year is captured, to tell a child's birth from a meeting.
_FULL_DATE = (rf"(?:{_DAY}[\s/.\-_]{{1,2}}(?:{_NUM_MONTH}|{_MONTH})[\s/.\-_,]{{1,2}}(?P<y1>(?:19|20)?\d\d)"
              rf"|(?P<y2>(?:19|20)\d\d)[\-/._]{_NUM_MONTH}[\-/._]{_DAY}"
              rf"|{_MONTH}\s{{1,2}}{_DAY},?\s{{1,2}}(?P<y3>(?:19|20)?\d\d))(?![0-9])")
# After "DOB" a date may also be run together (030415, 03042015) or a year alone ("born 2015").
_BORN = re.compile(r"(?i)(?<![a-z])(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s?date|birthday|born(?:\s+on)?|(?P<b>(?-i:b)\.))"
                   r"\s*[:=\-–]?\s*(?:on\s+|in\s+)?"
                   rf"(?:{_FULL_DATE}|(?P<run>(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)?\d\d)(?![0-9])"
                   r"|(?P<year>(?:19|20)\d\d)(?![0-9]))")
_DATE = re.compile(rf"(?i)(?<![0-9]){_FULL_DATE}")

_POSTCODE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}(?![A-Za-z0-9])")
_STREET = re.compile(r"(?<![A-Za-z0-9])\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){1,3}"
                     r"(?:Street|St|Road|Rd|Lane|Avenue|Ave|Close|Drive|Way|Crescent|Court|Place|Gardens|"
                     r"Grove|Terrace|Hill|Park|View|Walk|Mews|Row|Square|Rise|Green|Parade|Fields)(?![A-Za-z])")
_LIVES = re.compile(r"(?i)(?<![a-z])(?:(?:lives|living|lived|resides|residing|staying)\s+at|home\s+address)"
                    r"(?![a-z])")
# An address beside these belongs to a school, an office or a service, not to a child's home.
_SERVICE = re.compile(r"(?i)(?<![a-z])(?:school|academy|trust|council|college|nursery|centre|center|office|"
                      r"hall|station|hospital|surgery|clinic|church|university|services?|police|department|"
                      r"headquarters|hq)(?![a-z])")

# Latin letters with their accents (Zoë, Łukasz, Şahin, Nguyễn), as names on a school roll are written.
_UP, _LOW = "A-ZÀ-ÖØ-ÞĀ-ſ", "a-zß-öø-ÿĀ-ſ"
_WORD = rf"(?:[A-Z]['’])?(?:Ma?c)?[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)?"
_CAPS = rf"[{_UP}]{{2,}}(?:-[{_UP}]{{2,}})?"
# A name-like token: a capitalised word, a word in capitals, or an initial.
_TOKEN = re.compile(rf"(?<![A-Za-z{_LOW}{_UP}'’])(?:(?P<word>{_WORD})|(?P<caps>{_CAPS})|(?P<initial>[A-Z])\.?)"
                    rf"(?![A-Za-z{_LOW}{_UP}])")
_BESIDE = re.compile(r"[ \t,;()\[\]\-–]*")  # what may stand between a name and its date
# "Surname: Moore" names a child by itself; "Pupil: ..." needs a whole name after it ("Pupil: Premium"
# and "Learner: Voice" are school words, not children).
_NAME_LABEL = re.compile(r"(?<![A-Za-z])(?i:(?:child|pupil|student)(?:['’]?s)?\s+(?:first\s+|full\s+|sur)?name|"
                         r"name\s+of\s+(?:child|pupil|student)|first\s+name|forename|given\s+name|surname|"
                         r"last\s+name|family\s+name|full\s+name|legal\s+name)\s*[:=]\s*")
_PERSON_LABEL = re.compile(r"(?<![A-Za-z])(?i:child|pupil|student|learner|young\s+person)\s*[:=]\s*")

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "master", "dr"})
# Capitalised words that are not a person's name: the return's own vocabulary, the calendar,
# the services a DSL writes about. A name is two name-like words side by side, the second (and
# the first, unless it is an initial or a title) outside this list.
STOP = frozenset("""
a an and the of for to in on at by with from or not no nor as is was be are were this that these those
it its he she they his her their him them we our you your my me i if but so than then there here
about after before during until since per via re fao attn note notes see also new old other others
all any each every some none more most less least many much few one two three four five six seven
eight nine ten first second third last next previous term terms autumn spring summer winter year years
yr month months week weeks day days date dates today tomorrow yesterday monday tuesday wednesday
thursday friday saturday sunday january february march april may june july august september october
november december jan feb mar apr jun jul aug sep sept oct nov dec dob birth born birthday address
lives living home house street road lane avenue close drive way postcode upn uln id ref reference
number child children childs pupil pupils student students learner learners young person people
parent parents carer carers family families mother father mum dad sibling siblings staff teacher
teachers head headteacher deputy designated safeguarding lead leads dsl ddsl dso senco send sen
school schools academy academies trust trusts primary secondary infant junior nursery college
special alternative provision local authority la council social care worker workers services
service early help referral referrals referred concern concerns neglect physical emotional sexual
abuse domestic exploitation criminal county lines online harm radicalisation extremism mental
health missing protection plan plans conference conferences core group groups meeting meetings
strategy review reviews reviewed personal education looked lac cla cin cp cpp ehcp ehc fsm free
meals roll absence absent attendance exclusion exclusions excluded suspended suspension suspensions
permanent permanently part time timetable elective whole total count counts training course courses
governors governor governing body board policy filtering monitoring single central record records
checked check keeping safe kcsie prevent duty multi agency agencies lado allegation allegations low
level harm threshold inclusion return returns template version sheet sheets workbook file files
instructions measure measures activity due done value values field role name names completed urn
academic please thank thanks ok yes total totals section page pages header footer title chart
figure table summary draft final updated update attached case cases mash camhs nhs pcso ofsted dfe
gp csc need needs premium pp report reports closed open opened moved left joined started ended
office trustees trustee chair ceo executive officer manager team support pastoral welfare
wellbeing inspection audit action actions outcome outcomes question questions answer data voice
progress behaviour leader leaders
""".split())


def child_details(text: str, *, label: bool = False, today: date | None = None) -> str | None:
    """What in ``text`` looks like a child's details (one of the *_KIND phrases), or None.

    ``label`` marks a short name given to something (a sheet, a defined name, a file), whose
    underscores and run-together words are read as spaces first: 'Ellis_Moore_DOB_030415'.
    """
    if label:
        text = _spaced(text)
    if UPN.search(text) or SPACED_UPN.search(text):
        return UPN_KIND
    if not _hint(text):
        return None
    for born in _BORN.finditer(text):
        if born.group("b") and born.group("year"):
            continue  # "b. 2015" is too loose a marker for a year alone ("Appendix B. 2015")
        if not born.group("year") or _has_name(text, born.start(), born.end()):
            return BIRTH_KIND
    for label, whole in ((_NAME_LABEL, False), (_PERSON_LABEL, True)):
        found = label.search(text)
        if found and _name_at(text, found.end(), whole):
            return LABELLED_KIND
    kind = _address(text)
    if kind:
        return kind
    this_year = (today or date.today()).year
    for found in _DATE.finditer(text):
        year = int(found.group("y1") or found.group("y2") or found.group("y3"))
        year += 2000 if year < 100 and year <= this_year % 100 else 1900 if year < 100 else 0
        if this_year - 19 <= year <= this_year - 3 and _has_name(text, found.start(), found.end(), adjacent=True):
            return NAMED_BIRTH_KIND
    return None


_HINTS = re.compile(r"(?i)\d|lives|living|lived|resid|staying|address|:|=")


def _hint(text: str) -> bool:
    """Every rule below needs a digit, a residence word or a heading's colon: most text has none."""
    return _HINTS.search(text) is not None


def _address(text: str) -> str | None:
    lives = _LIVES.search(text)
    if lives:
        rest = text[lives.end():lives.end() + 80]
        if _has_name(text, lives.start(), lives.end()):
            return NAMED_ADDRESS_KIND
        if any(ch.isdigit() for ch in rest) or _POSTCODE.search(rest):
            return ADDRESS_KIND
    for pattern in (_STREET, _POSTCODE):
        found = pattern.search(text)
        if found and not _SERVICE.search(f"{text[:found.start()]} {text[found.end():]}") \
                and _has_name(text, found.start(), found.end(), reach=80):
            return NAMED_ADDRESS_KIND
    return None


def _has_name(text: str, start: int, end: int, reach: int = 60, adjacent: bool = False) -> bool:
    """Whether a person's name stands within ``reach`` characters of text[start:end]; with
    ``adjacent``, right beside it, only spaces, commas or brackets between."""
    spans = _names(text)
    if adjacent:
        return any((e <= start and _BESIDE.fullmatch(text[e:start])) or (s >= end and _BESIDE.fullmatch(text[end:s]))
                   for s, e in spans)
    if any(s < end + reach and e > start - reach for s, e in spans):
        return True
    # A given name alone, right before it: "Ellis, DOB 03/04/2015".
    before = _tokens(text[max(0, start - 24):start])
    if before:
        kind, word, _, e = before[-1]
        return kind == "word" and word.lower() not in STOP and bool(_BESIDE.fullmatch(text[max(0, start - 24) + e:start]))
    return False


def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, word, start, end) of each name-like token: a capitalised word, one in capitals,
    an initial."""
    return [(m.lastgroup, m.group(m.lastgroup), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _names(text: str) -> list[tuple[int, int]]:
    """(start, end) of each person's name: a given name, an initial or a title, then one or two
    surname-like words, side by side."""
    tokens, spans, i = _tokens(text), [], 0
    while i + 1 < len(tokens):
        first, second = tokens[i], tokens[i + 1]
        if _side_by_side(text, first, second) and _starts_name(first) and _surname(second):
            j = i + 1
            while j + 1 < len(tokens) and _side_by_side(text, tokens[j], tokens[j + 1]) and _surname(tokens[j + 1]):
                j += 1
            spans.append((first[2], tokens[j][3]))
            i = j + 1
        else:
            i += 1
    return spans


def _side_by_side(text: str, first: tuple, second: tuple) -> bool:
    return not text[first[3]:second[2]].strip(". ")


def _starts_name(token: tuple) -> bool:
    kind, word = token[0], token[1].lower()
    return kind == "initial" or word in TITLES or (kind == "word" and word not in STOP)


def _surname(token: tuple) -> bool:
    return token[0] != "initial" and token[1].lower() not in STOP and token[1].lower() not in TITLES


def _name_at(text: str, at: int, whole: bool) -> bool:
    """Whether a name starts at ``at``: a whole one (a given name or an initial, then a surname),
    or, unless ``whole``, one word of one."""
    window = text[at:at + 60]
    if whole:
        return any(s == 0 for s, _ in _names(window))
    tokens = _tokens(window)
    if not tokens or tokens[0][2] != 0:
        return False
    first = tokens[0]
    if first[0] == "initial":
        return len(tokens) > 1 and _side_by_side(window, first, tokens[1]) and _surname(tokens[1])
    return _surname(first)


def names_a_person(text: str) -> bool:
    """Whether the text holds what reads as a person's name ("Ellis Moore", "J. Smith", "Mrs Jones")."""
    return bool(_names(_spaced(text)))


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def _spaced(label: str) -> str:
    """'Ellis_Moore_DOB_030415' and 'EllisMooreDOB030415' -> 'Ellis Moore DOB 030415'."""
    return " ".join(_CAMEL.sub(" ", label.replace("_", " ").replace("\\", " ")).split())
