"""How the indicator data reads in a chat (HTML) or a terminal (plain), and its buttons:
one module per command — `certify` (/certify), `school` (/school and its corrections),
`whatif` (/whatif), `plan` (/plan and the tasks it makes), `importing` (the data workbook
sent back) — and `common` for what they share.
"""
