"""How a sequence that differs from the expected one is told — a list of tokens, a row of
ids: whole when it is short, else the first position that differs with a few items around
it, so that a review of 300 tokens does not fill the message."""
from builtins import enumerate, isinstance, len, max, min, repr, zip

from ._trusted import np

SHORT = 12  # lists up to this long are shown whole
AROUND = 3  # items shown on each side of the first difference


def first_difference(actual, expected):
    """The first position where the sequences differ (the shorter one's length when it is
    the other's beginning), or None when they are equal."""
    for position, (got, wanted) in enumerate(zip(actual, expected)):
        if got != wanted:
            return position
    return None if len(actual) == len(expected) else min(len(actual), len(expected))


def shown(items):
    """[1, 2, 3] or ['a', 'b'] as Python prints them, numpy's integers as plain ints."""
    return f"[{', '.join(repr(_plain(item)) for item in items)}]"


def excerpt(items, position):
    """The items around `position`, '…' marking what is left out: […, 'b', 'c', 'd', …]."""
    start, stop = max(position - AROUND, 0), min(position + AROUND + 1, len(items))
    inner = ", ".join(repr(_plain(item)) for item in items[start:stop])
    return f"[{'…, ' if start > 0 else ''}{inner}{', …' if stop < len(items) else ''}]"


def difference(actual, expected, item="item"):
    """'[…], expected […]' for short sequences; for long ones, how many items came back and
    where the first difference is, e.g. "312 tokens where 310 are expected; the first
    difference is at position 41: 'br' where 'the' is expected (around it: […] instead
    of […])"."""
    if len(actual) <= SHORT and len(expected) <= SHORT:
        return f"{shown(actual)}, expected {shown(expected)}"
    position = first_difference(actual, expected)
    if position is None:
        return f"the {len(expected)} {item}s expected"
    counts = (f"{len(actual)} {item}s where {len(expected)} are expected; the first difference is at position "
              f"{position}: ")
    if position >= len(actual):
        what = f"the {item}s end where {repr(_plain(expected[position]))} is expected"
    elif position >= len(expected):
        what = f"{repr(_plain(actual[position]))} where the {item}s should end"
    else:
        what = f"{repr(_plain(actual[position]))} where {repr(_plain(expected[position]))} is expected"
    return f"{counts}{what} (around it: {excerpt(actual, position)} instead of {excerpt(expected, position)})"


def _plain(item):
    """A numpy scalar as a Python one (repr(np.int64(3)) is 'np.int64(3)' in numpy 2)."""
    return item.item() if isinstance(item, np.generic) else item
