"""Characters XML 1.0 cannot carry, removed from what people type and from what we write.

A vertical tab pasted from Word, a NUL in a file name or a lone surrogate from a broken
client is harmless in a chat but makes every XML document that holds it invalid: an XLSX
cell with U+000B is refused by the writer (or, written anyway, by Excel), so one such note
used to break the ledger and the archive for everyone in scope. Such characters are
dropped at the service boundary (notes, captions, file names, table cells) and once more
when a spreadsheet or document is written, for rows stored before this rule.
"""

from __future__ import annotations

import re

# XML 1.0 `Char` allows TAB, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and U+10000 up. In a
# Python str a surrogate code point is always unpaired (pairs decode to one code point).
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (the rest unchanged)."""
    return ILLEGAL_XML.sub("", text) if ILLEGAL_XML.search(text) else text
