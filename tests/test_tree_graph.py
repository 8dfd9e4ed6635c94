"""`ivr graph`: every node and every way between nodes is in the diagram, and the rendered
files are what their suffix says."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ivr.cli import main
from ivr.tree.graph import build, usual_exceeded_target
from ivr.tree.loader import load_tree

REPO = Path(__file__).resolve().parents[1]
VIKA = REPO / "menus" / "vika.yaml"
TREES = Path(__file__).parent / "trees"
EDGE = re.compile(r'^\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s*->\s*"?([A-Za-z_][A-Za-z0-9_]*)"?(?:\s*\[(.*)\])?\s*$')


@pytest.fixture(scope="module")
def vika():
    return load_tree(VIKA)


def dot_edges(source: str) -> list[tuple[str, str, str]]:
    out = []
    for line in source.splitlines():
        m = EDGE.match(line)
        if m:
            out.append((m[1], m[2], m[3] or ""))
    return out


def test_dot_has_every_node_with_its_shape(vika, tmp_path, capsys):
    out = tmp_path / "vika.dot"
    assert main(["graph", str(VIKA), "-o", str(out)]) == 0
    src = out.read_text(encoding="utf-8")
    for n in vika.nodes.values():
        m = re.search(rf"^\s*{n.id} \[(.*?)\]$", src, re.M | re.S)
        assert m, n.id
        assert f"shape={n.spec.style['shape']}" in m[1], n.id


def test_dot_has_every_edge(vika):
    src = build(vika).source
    edges = dot_edges(src)
    pairs = {(a, b) for a, b, _ in edges}
    skipped = usual_exceeded_target(vika)
    assert skipped == "batas_percobaan"  # the tree's default on_exceeded, named in the legend
    assert f"not drawn: -> {skipped}" in src
    for n in vika.nodes.values():
        for target, _ in n.targets():
            if n.spec.listens and target == n.on_exceeded.goto == skipped:
                continue
            assert (n.id, target) in pairs, (n.id, target)
    assert ("__start__", vika.start) in pairs
    # option keys and labels, service outcomes, dashed exceeded edges
    labels = {(a, b): attrs for a, b, attrs in edges}
    assert 'label="1 Layanan mandiri"' in labels[("menu_utama", "menu_mandiri")]
    assert "aktif" in labels[("status_cek", "status_aktif")]
    assert "style=dashed" in labels[("status_nik", "gagal_verifikasi")]
    assert "agent answers" in labels[("transfer_pendaftaran", "agen_daftar_nik")]


def test_agent_dialogue_is_a_cluster(vika):
    src = build(vika).source
    cluster = src[src.index("subgraph cluster_agent"):]
    cluster = cluster[: cluster.index("\n\t}")]
    assert "agen_daftar_nik [" in cluster and "agen_tiket [" in cluster
    assert "menu_utama [" not in cluster


def test_no_labels(vika):
    src = build(vika, labels=False).source
    assert "Layanan mandiri" not in src and "agent answers" not in src
    assert all('label=""' in attrs for _, _, attrs in dot_edges(src) if attrs)


def test_svg_and_png(tmp_path, capsys):
    svg, png = tmp_path / "t.svg", tmp_path / "t.png"
    tree = TREES / "good" / "minimal.yaml"
    assert main(["graph", str(tree), "-o", str(svg)]) == 0
    assert main(["graph", str(tree), "-o", str(png), "--no-labels", "--rankdir", "TB"]) == 0
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    texts = {t.text for t in root.iter() if t.tag.endswith("text")}
    assert {"welcome", "ask_nik", "bye"} <= {t.split("\n")[0] for t in texts if t}
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert "wrote" in capsys.readouterr().out


def test_unknown_suffix_is_a_clear_error(tmp_path, capsys):
    rc = main(["graph", str(TREES / "good" / "minimal.yaml"), "-o", str(tmp_path / "x.jpeg")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "unknown output format '.jpeg'" in err and ".svg" in err
    assert not (tmp_path / "x.jpeg").exists()


def test_broken_tree_prints_loader_errors(tmp_path, capsys):
    rc = main(["graph", str(TREES / "broken" / "dangling_goto.yaml"), "-o", str(tmp_path / "x.svg")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("ivr: error:")
    assert "dangling_goto.yaml:14:11: error: node 'welcome' goes to unknown node 'mian'" in err
    assert main(["graph", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "x.svg")]) == 2
