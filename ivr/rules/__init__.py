"""Pure domain rules that both the call engine and the JKN services apply.

A leaf package: it imports nothing from ivr, so the engine can use the same rule as the
services without depending on them (ivr.engine never imports ivr.jkn).
"""
