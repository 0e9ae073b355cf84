"""Caisse-AP over IP records: `TT LLL V...` fields, pure functions, no I/O.

A message is a run of fields: a 2-character tag, the value's length as 3 decimal digits, the
value (ASCII). The protocol version `CZ` comes first; other tags may come in any order. Answers
arrive in TCP pieces that can split a field anywhere, and a terminal may keep the socket open,
so `answer_complete` tells the reader when the bytes so far form a whole answer.
"""

from __future__ import annotations

# -- tags (payments-fiscal.md §1.1) --------------------------------------------------------------

VERSION = "CZ"  # protocol version, always first
PROTOCOL_ID = "CJ"  # 12 digits, required by terminals, content free
REGISTER = "CA"  # cash-register (POS) number, 2 digits
AMOUNT = "CB"  # amount in minor units (cents); may come back zero-padded
ACTION = "CD"  # 0 debit, 1 credit
CURRENCY = "CE"  # ISO 4217 numeric
ANSWER_MODE = "BA"  # 0 answer at end of transaction, 1 immediate acknowledgement
APPLICATION = "CC"  # card application used (answer)
READ_MODE = "CI"  # 0 any, 1 contact, 2 contactless, 3 magstripe, 4 manual
PRIVATE = "CF"
CONTRACT = "CG"  # merchant contract number
RESULT = "AE"  # 10 done, 01 not done, 11 request taken into account (BA=1)
REASON = "AF"  # why not done, when AE=01
MASKED_PAN = "AA"
EXPIRY = "AB"
AUTHORISATION = "AC"
CARD_AID = "AI"

# -- values --------------------------------------------------------------------------------------

PROTOCOL_VERSION = "0300"
EURO = "978"
DEBIT = "0"
ANSWER_AT_END = "0"
ANSWER_IMMEDIATE = "1"

RESULT_DONE = "10"
RESULT_NOT_DONE = "01"
RESULT_TAKEN = "11"

REASON_REFUSED = "04"
REASON_FORBIDDEN = "05"
REASON_ABANDONED = "06"
REASON_NOT_COMPLETED = "07"  # the outcome is unknown
REASON_INPUT_TIMEOUT = "08"
REASON_FORMAT_ERROR = "09"
REASON_SELECTION_ERROR = "10"
REASON_OPERATOR_ABANDON = "11"
REASON_UNKNOWN_ACTION = "12"
REASON_CURRENCY_UNSUPPORTED = "13"

#: Fields a terminal sends back as they were in the request.
ECHOED = (REGISTER, AMOUNT, ACTION, CURRENCY)
#: A request without one of these is refused by terminals with AF 09.
REQUIRED_IN_REQUEST = (VERSION, PROTOCOL_ID, REGISTER, AMOUNT, ACTION, CURRENCY)

TAG_LEN = 2
LENGTH_LEN = 3
MAX_VALUE_LEN = 999

Fields = dict[str, str]


class TlvError(ValueError):
    """Bytes that cannot be a Caisse-AP message."""


def encode(fields: list[tuple[str, str]]) -> bytes:
    """The message for `fields` in order; `CZ` must come first."""
    if not fields or fields[0][0] != VERSION:
        raise TlvError(f"a Caisse-AP message starts with {VERSION}")
    out = []
    for tag, value in fields:
        if len(tag) != TAG_LEN or not _is_tag(tag):
            raise TlvError(f"tag {tag!r} is not 2 capital letters or digits")
        if not 1 <= len(value) <= MAX_VALUE_LEN or not value.isascii():
            raise TlvError(f"field {tag} needs 1 to {MAX_VALUE_LEN} ASCII characters")
        out.append(f"{tag}{len(value):03d}{value}")
    return "".join(out).encode("ascii")


def split(data: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """The whole fields at the start of `data`, and the unfinished tail (maybe empty).

    Raises TlvError as soon as the bytes cannot be the start of a valid message, so garbage is
    reported at once instead of waiting for more of it.
    """
    fields: list[tuple[str, str]] = []
    pos = 0
    while pos < len(data):
        head = data[pos : pos + TAG_LEN + LENGTH_LEN]
        tag_bytes, length_bytes = head[:TAG_LEN], head[TAG_LEN:]
        if not _is_tag(tag_bytes.decode("ascii", "replace")):
            raise TlvError(f"byte {pos}: {tag_bytes!r} is not a tag")
        if length_bytes and not length_bytes.isdigit():
            raise TlvError(f"byte {pos + TAG_LEN}: length {length_bytes!r} is not 3 digits")
        if len(head) < TAG_LEN + LENGTH_LEN:
            break
        length = int(length_bytes)
        if length == 0:
            raise TlvError(f"byte {pos}: field {tag_bytes.decode()} has an empty value")
        start = pos + TAG_LEN + LENGTH_LEN
        if start + length > len(data):
            break
        value = data[start : start + length]
        if not value.isascii():
            raise TlvError(f"byte {start}: field {tag_bytes.decode()} is not ASCII")
        fields.append((tag_bytes.decode("ascii"), value.decode("ascii")))
        pos = start + length
    if fields and fields[0][0] != VERSION:
        raise TlvError(f"the message starts with {fields[0][0]}, not {VERSION}")
    return fields, data[pos:]


def decode(data: bytes) -> Fields:
    """A complete message as {tag: value}; a repeated tag keeps its last value."""
    fields, tail = split(data)
    if tail:
        raise TlvError(f"the message ends in the middle of a field: {tail[:20]!r}")
    if not fields:
        raise TlvError("the message is empty")
    return dict(fields)


def answer_complete(data: bytes) -> bool:
    """Whether `data` holds a whole answer: whole fields, `CZ` first, a result, and a reason
    when the result is "not done". Raises TlvError for bytes that can never become one."""
    fields, tail = split(data)
    if tail or not fields:
        return False
    found = dict(fields)
    if RESULT not in found:
        return False
    return found[RESULT] != RESULT_NOT_DONE or REASON in found


def same_amount(a: str, b: str) -> bool:
    """Amounts compared as terminals echo them: `0001590` is `1590`."""
    return a.isdigit() and b.isdigit() and int(a) == int(b)


def _is_tag(text: str) -> bool:
    return all(c.isascii() and (c.isupper() or c.isdigit()) for c in text)
