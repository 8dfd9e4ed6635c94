"""SIPp load bench for `ivr serve` (run `python -m bench.sip`; see __main__)."""
