"""The light install: without the ``imaging``, ``deep`` and ``r`` extras, the SEM engine and its
report work, and every feature that needs an extra names it.

The extras' packages are installed in the test environment, so a subprocess hides them with an
import hook that fails like a missing package would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from radsem._optional import EXTRAS, extra_for, require
from radsem.errors import EngineUnavailableError, MissingExtraError

BLOCKER = textwrap.dedent("""
    import sys
    BLOCKED = {"torch", "SimpleITK", "radiomics", "rpy2", "monai", "captum", "pydicom",
               "highdicom", "rt_utils"}

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
""")

SCRIPT = BLOCKER + textwrap.dedent("""
    import io, json, contextlib
    from pathlib import Path
    import radsem
    from radsem import cli
    from radsem.datasets import load

    out = Path(sys.argv[1])
    hs = load("HolzingerSwineford1939")
    data = out / "hs.csv"
    hs.to_csv(data, index=False)
    model = out / "hs.lav"
    model.write_text("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
                     "speed =~ x7 + x8 + x9\\n")
    fit = radsem.cfa(model.read_text(), data=hs)
    result = {"chisq": float(fit.fit_measures()["chisq"])}
    result["fit_exit"] = cli.main(["fit", str(model), str(data), "--kind", "cfa",
                                   "--out", str(out / "fit"), "--quiet"])
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        result["extract_exit"] = cli.main(["extract", str(out / "cohort"), "--out",
                                           str(out / "features.csv"), "--quiet"])
    result["extract_err"] = err.getvalue()
    messages = {}
    for name, call in [("deep", lambda: radsem.deep.ConvAutoencoder),
                       ("gan", lambda: radsem.deep.ConditionalWGAN),
                       ("image", lambda: radsem.io.read_image(data))]:
        try:
            call()
        except radsem.errors.MissingExtraError as exc:
            messages[name] = [exc.extra, str(exc)]
    result["messages"] = messages
    result["loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(json.dumps(result))
""")


def _run(tmp_path: Path) -> dict:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    )
    code = "import radsem.deep, radsem.io\n" + SCRIPT
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sem_and_report_work_without_extras_and_features_name_their_extra(tmp_path):
    result = _run(tmp_path)
    assert result["loaded"] == []  # nothing of torch/SimpleITK/radiomics/rpy2 was imported
    # Holzinger-Swineford three-factor CFA, lavaan tutorial: chi-square 85.306 on 24 df
    assert result["chisq"] == pytest.approx(85.306, abs=1e-3)
    assert result["fit_exit"] == 0
    report = (tmp_path / "fit" / "report.html").read_text(encoding="utf-8")
    assert "visual" in report
    assert "data:image/svg+xml" in report
    assert json.loads((tmp_path / "fit" / "fit.json").read_text(encoding="utf-8"))
    assert result["extract_exit"] == 3
    assert 'pip install "radsem[imaging]"' in result["extract_err"]
    assert result["messages"]["deep"][0] == "deep"
    assert "radsem[deep]" in result["messages"]["deep"][1]
    assert result["messages"]["gan"][0] == "deep"
    assert result["messages"]["image"][0] == "imaging"


def test_require_names_the_extra_and_returns_the_module():
    import numpy  # noqa: F401 - any importable module under a known extra name is fine here

    assert extra_for("radiomics.featureextractor") == "imaging"
    assert extra_for("torch") == "deep"
    assert extra_for("rpy2") == "r"
    assert set(EXTRAS.values()) == {"imaging", "deep", "r"}
    with pytest.raises(KeyError):
        extra_for("numpy")
    EXTRAS["radsem_no_such_module"] = "deep"
    try:
        with pytest.raises(MissingExtraError, match=r'pip install "radsem\[deep\]"') as info:
            require("radsem_no_such_module", "a test feature")
        assert info.value.extra == "deep"
        assert isinstance(info.value, EngineUnavailableError)
    finally:
        del EXTRAS["radsem_no_such_module"]
