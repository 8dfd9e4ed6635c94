"""The shipped scenario suite: passes, covers every node of vika.yaml, writes valid JUnit."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

IVR = [sys.executable, "-m", "ivr"]


def test_shipped_scenarios_pass_with_full_node_coverage(repo, tmp_path):
    junit = tmp_path / "junit.xml"
    r = subprocess.run(IVR + ["test", str(repo / "tests" / "scenarios"), "--min-coverage", "100",
                              "--junit", str(junit)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert "(100.0%)" in r.stdout and " 0 failed" in r.stdout
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    assert len(cases) == int(root.get("tests")) >= 60
    assert root.get("failures") == "0" and not root.findall(".//failure")
    assert all(c.get("name") and c.get("classname") and float(c.get("time")) >= 0 for c in cases)
    props = {p.get("name"): p.get("value") for p in root.findall(".//property")}
    assert any(k.startswith("node-coverage:") and v.split("/")[0] == v.split("/")[1] for k, v in props.items())


def test_failing_scenario_fails_with_reason_and_junit_failure(repo, tmp_path):
    sc = tmp_path / "wrong.yaml"
    sc.write_text(f"""tree: {repo / 'menus' / 'vika.yaml'}
scenarios:
  - name: expects the wrong menu
    steps:
      - keys: "1"
        expect: {{node: menu_informasi, prompt: "tidak ada"}}
  - name: right
    steps: [{{keys: "2", expect: {{node: menu_informasi}}}}]
""")
    junit = tmp_path / "j.xml"
    r = subprocess.run(IVR + ["test", str(sc), "--junit", str(junit), "--min-coverage", "100"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "expected to be at node 'menu_informasi', but at 'menu_mandiri'" in r.stdout
    assert "1 passed, 1 failed" in r.stdout
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "1" and len(root.findall(".//failure")) == 1


def test_scenario_file_errors_name_the_line(tmp_path):
    sc = tmp_path / "bad.yaml"
    sc.write_text("scenarios:\n  - name: x\n    steps:\n      - kyes: '1'\n")
    r = subprocess.run(IVR + ["test", str(sc)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "bad.yaml:4" in r.stderr and "kyes" in r.stderr
