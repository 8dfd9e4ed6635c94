"""A SIP/RTP endpoint: real phones, softphones and SIPp call the simulated 165 line.

`ivr serve --sip HOST:PORT` answers INVITEs with G.711 audio; each call is one CallSession
driven by the same runtime and audio timeline as a WAV or microphone call (see
`ivr.sip.call`). Small modules, one job each: `g711` (codec), `rtp` (packets and the
jitter buffer), `rfc4733` (telephone events), `sdp` (offer/answer), `message`
(SIP syntax), `server` (transactions, dialogs, the 20 ms media clock), `commands` (CLI).
"""
