"""The county's data workbook: the XLSX template the office fills in, and reading it back.

One workbook carries everything the county reports: school figures (one row per school and
level; a nine-year school has a 小学部 row, a 初中部 row and a 全校 row for what the parts
share), the satisfaction survey, budget figures, disabled children's enrolment and each
self-assessment sheet. A hidden `_meta` sheet names the school year, the standard set
and which column holds which figure, so a renamed header still reads; a workbook is
recognised by that sheet, or by its school sheet's name.

`layout` is what both sides agree on (sheets, rows, parts, the cells a nine-year school
leaves empty); `writing` makes the template (`write_book`); `reading` turns bytes into the
lines of a `book.Book` (`read_book`, `is_county_book`), with `validation` deciding what a
cell or a school row may hold and naming every problem. Nothing here touches the
database: the import (`bot.indicators.importing`) checks the rows against the registered
schools.
"""
