"""Date and time formats that replace Django's English locale formats.

Django's English formats write "Dec. 6, 2026, 4:15 p.m.", while the
product's messages, imports and exports write ISO dates (2026-12-06), so
one page could show both. With these formats every rendered date is ISO.
"""
