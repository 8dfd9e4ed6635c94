"""Shared wiring for every driver: which tree, which services, which log, which date."""
from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

from ivr.errors import CliError
from ivr.tree.loader import TreeLoadError, load_tree
from ivr.tree.model import Tree

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_tree_path() -> Path:
    """$IVR_TREE, else menus/vika.yaml in the current directory, else the bundled one."""
    env = os.environ.get("IVR_TREE")
    if env:
        return Path(env)
    local = Path("menus/vika.yaml")
    return local if local.exists() else REPO_ROOT / "menus" / "vika.yaml"


def open_tree(path: str | None) -> Tree:
    p = Path(path) if path else default_tree_path()
    try:
        return load_tree(p)
    except TreeLoadError as exc:
        raise CliError(exc.summary()) from None




def open_services(db: str | None):
    """The JKN services backed by the participants database (created on first use)."""
    from ivr.jkn.services import JknServices

    try:
        return JknServices(db) if db else JknServices()
    except (OSError, ValueError) as exc:
        raise CliError(f"participants database: {exc}") from None


def queue_config_path(tree_path: str | Path, explicit: str | None = None) -> Path | None:
    """The agent-queue file for a tree: --queue-config, else queues.yaml beside the tree."""
    if explicit:
        return Path(explicit)
    p = Path(tree_path).parent / "queues.yaml"
    return p if p.exists() else None


def open_queue(tree_path: str | Path, config: str | None = None, seed: int | None = 0,
               start_hour: float | None = None):
    """A LiveQueue for one call (None when the tree has no queue file: transfers then end
    the call, as a plain IVR hand-off would)."""
    path = queue_config_path(tree_path, config)
    if path is None:
        return None
    from ivr.queue.config import QueueConfigError, load_config
    from ivr.queue.model import LiveQueue

    try:
        cfg = load_config(path)
    except QueueConfigError as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    return LiveQueue(cfg, seed=seed, start_hour=start_hour)


def call_tree_and_queue(args):
    """The tree and live queue a call command (`ivr call`, `ivr serve`) runs with, from the
    options they share -- `--tree`, `--max-call-seconds`, `--queue-config`, `--queue-seed`,
    `--hour`, `--no-queue` -- checked once here: (tree, live queue or None)."""
    if args.queue_seed is not None and not 0 <= args.queue_seed < 2 ** 32:
        raise CliError(f"--queue-seed must be a whole number from 0 to {2 ** 32 - 1}, got {args.queue_seed}")
    if args.hour is not None and not (0.0 <= args.hour < 24.0):
        raise CliError(f"--hour must be a time of day from 0 to 24 (e.g. 9.5 for 09:30), got {args.hour}")
    if args.max_call_seconds is not None and not 1 <= args.max_call_seconds < float("inf"):
        raise CliError(f"--max-call-seconds must be at least 1 (seconds), got {args.max_call_seconds}")
    tree = open_tree(args.tree)
    if args.max_call_seconds is not None:
        tree = dataclasses.replace(tree, max_call_seconds=args.max_call_seconds)
    if args.no_queue:
        return tree, None
    seed = args.queue_seed if args.queue_seed is not None else random.SystemRandom().randrange(1 << 31)
    return tree, open_queue(args.tree or default_tree_path(), args.queue_config, seed, args.hour)
