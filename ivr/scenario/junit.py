"""JUnit XML for scenario results, as CI systems (Jenkins, GitLab, GitHub) read it."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from ivr.privacy import mask_pii, open_private


def write_junit(results, path: str | Path, coverage: dict[str, tuple[int, int]] | None = None,
                unmask: bool = False, edge_coverage: dict[str, tuple[int, int]] | None = None) -> None:
    """Write the results; failure messages and transcripts masked unless `unmask` (the
    runner already hid what personal collects gathered; `mask_pii` catches the rest)."""
    shown = (lambda text: text) if unmask else mask_pii
    by_file = defaultdict(list)
    for r in results:
        by_file[r.scenario.file].append(r)
    suites = ET.Element("testsuites", name="ivr scenarios", tests=str(len(results)),
                        failures=str(sum(not r.ok for r in results)),
                        time=f"{sum(r.seconds for r in results):.4f}")
    for file, rs in by_file.items():
        suite = ET.SubElement(suites, "testsuite", name=file, tests=str(len(rs)),
                              failures=str(sum(not r.ok for r in rs)), errors="0", skipped="0",
                              time=f"{sum(r.seconds for r in rs):.4f}")
        if coverage or edge_coverage:   # JUnit XSD: <properties> comes before the test cases
            props = ET.SubElement(suite, "properties")
            for what, cov in (("node", coverage or {}), ("edge", edge_coverage or {})):
                for tree, (hit, total) in cov.items():
                    ET.SubElement(props, "property", name=f"{what}-coverage:{tree}", value=f"{hit}/{total}")
        for r in rs:
            case = ET.SubElement(suite, "testcase", classname=Path(file).stem, name=shown(r.scenario.name),
                                 file=file, line=str(r.scenario.line), time=f"{r.seconds:.4f}")
            if not r.ok:
                f = ET.SubElement(case, "failure", message=shown(r.failures[0]), type="ScenarioFailure")
                f.text = shown("\n".join(r.failures) + "\n\nTranscript:\n" + "\n".join(r.transcript))
    with open_private(path, "wb") as f:   # failure transcripts are a caller's call: 0600
        ET.ElementTree(suites).write(f, encoding="utf-8", xml_declaration=True)
