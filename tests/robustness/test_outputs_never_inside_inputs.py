"""No command writes over or inside its inputs (issue 13): every command, every input/output
pair, paths given directly or through a symbolic link; the command exits 3 and the inputs are
byte-for-byte unchanged, with no new file among them."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from radsem.cli import main

MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
CONFIG = """\
data:
  cohort: ../cohort
families:
  clinical:
    family: clinical_cox
cross_validation: {folds: 3, repeats: 1, seed: 3}
"""


def _tree(*roots: Path) -> dict[str, str]:
    out = {}
    for root in roots:
        for f in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else "link"
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from radsem.datasets import load
    from radsem.simulate import simulate

    root = tmp_path_factory.mktemp("inputs")
    inputs = root / "inputs"
    inputs.mkdir()
    (inputs / "hs.lav").write_text(MODEL, encoding="utf-8")
    (inputs / "hs.md").write_text(MODEL, encoding="utf-8")  # a model whose name is a report's
    load("HolzingerSwineford1939").to_csv(inputs / "hs.csv", index=False)
    (inputs / "compare.yaml").write_text(CONFIG, encoding="utf-8")
    (inputs / "notes.txt").write_text("not a cohort\n", encoding="utf-8")
    simulate(n=40, seed=1, out=root / "cohort", images=False)
    (root / "link-inputs").symlink_to(inputs)
    (root / "link-cohort").symlink_to(root / "cohort")
    return root


CASES = {
    "extract: over clinical.csv": "extract {c} --out {c}/clinical.csv --quiet",
    "extract: inside an image folder": "extract {c} --out {c}/images/P001/feat.csv --quiet",
    "extract: over clinical.csv via a link": "extract {c} --out {r}/link-cohort/clinical.csv",
    "extract: diagnostics over the params file": (
        "extract {c} --out {i}/compare.csv --params {i}/compare.diagnostics.csv --quiet"
    ),
    "extract: cache inside the cohort": "extract {c} --out {r}/f.csv --cache {c}/cache",
    "fit: into the data's folder": "fit {i}/hs.lav {i}/hs.csv --out {i} --quiet",
    "fit: into the data's folder via a link": (
        "fit {i}/hs.lav {i}/hs.csv --out {r}/link-inputs --quiet --overwrite"
    ),
    "fit: over the data file": "fit {i}/hs.lav {i}/hs.csv --out {i}/hs.csv --quiet",
    "fit: into the cohort holding the data": (
        "fit {i}/hs.lav {c}/clinical.csv --out {c} --quiet --overwrite"
    ),
    "report: over the model": "report {i}/hs.md {i}/hs.csv --out {i}/hs.md --quiet",
    "report: over the model via a link": (
        "report {i}/hs.md {i}/hs.csv --out {r}/link-inputs/hs.md --quiet"
    ),
    "compare: into the config's folder": "compare {i}/compare.yaml --out {i} --quiet",
    "compare: inside the cohort": "compare {i}/compare.yaml --out {c}/results --quiet",
    "compare: inside the cohort via a link": (
        "compare {i}/compare.yaml --out {r}/link-cohort/results --quiet --overwrite"
    ),
    "segment: model inside the cohort": "segment train {c} --out {c}/model --quiet",
    "segment: predictions into the cohort via a link": (
        "segment predict {r}/link-cohort --model {r}/no-model --out {c} --quiet"
    ),
    "simulate: over a folder that is not a cohort": (
        "simulate --n 5 --no-images --out {i} --overwrite --quiet"
    ),
    "genemap: into the expression table's folder": (
        "genemap --expression {i}/hs.csv --features {i}/hs.csv --gene-sets hpv --out {i} --quiet"
    ),
    "genemap: into the cohort holding the expression, via a link": (
        "genemap --expression {c}/clinical.csv --features {i}/hs.csv --gene-sets hpv "
        "--out {r}/link-cohort --overwrite --quiet"
    ),
    "imagegen: model inside the cohort": "imagegen train {c} --out {c}/model --quiet",
    "imagegen: samples into the expression table's folder via a link": (
        "imagegen sample --model {r}/no-model --expression {i}/hs.csv --out {r}/link-inputs --quiet"
    ),
    "import-dicom: cohort inside the DICOM source": (
        "import-dicom {i} --out {i}/cohort --mapping {r}/mapping.csv --quiet"
    ),
    "import-dicom: mapping over a source file via a link": (
        "import-dicom {i} --out {r}/imported --mapping {r}/link-inputs/notes.txt --quiet"
    ),
    "demo: over a folder that is not a demo output": "demo --out {i} --overwrite --quiet",
}


@pytest.mark.parametrize("case", list(CASES))
def test_output_over_or_inside_an_input_is_refused(world, case, capsys):
    if case.startswith("extract"):
        pytest.importorskip("radiomics")
    inputs, cohort = world / "inputs", world / "cohort"
    before = _tree(inputs, cohort)
    argv = CASES[case].format(c=cohort, i=inputs, r=world).split()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 3, err
    assert re.search(
        r"the input |input folder|input file|not a cohort folder|not the output "
        r"folder of an earlier demo",
        err,
    ), err
    assert _tree(inputs, cohort) == before


def test_every_command_is_covered():
    from radsem.cli import build_parser

    parser = build_parser()
    commands = {
        a
        for action in parser._subparsers._group_actions  # noqa: SLF001
        for a in action.choices
    }
    assert commands == {case.split(":")[0] for case in CASES}
