"""Sub-commands of this area (filled in as the area grows)."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ivr`."""
