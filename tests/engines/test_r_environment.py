"""Starting R through rpy2 leaves the environment that child processes inherit alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from radsem._r import r_available

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os
before = os.environ.get("LD_LIBRARY_PATH")
from radsem._r import _probe
reason = _probe(("lavaan",))
print(json.dumps({"reason": reason, "before": before,
                  "after": os.environ.get("LD_LIBRARY_PATH")}))
"""


@pytest.mark.skipif(not r_available("lavaan"), reason="needs R with lavaan")
@pytest.mark.parametrize("inherited", [None, "/opt/example/lib"])
def test_starting_r_keeps_ld_library_path(inherited):
    # rpy2 prepends R's library folders (on Debian /usr/lib/x86_64-linux-gnu) when it starts R;
    # a child Python started afterwards (joblib workers) would load the system's libpython
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    env["PYTHONPATH"] = str(ROOT)
    if inherited is not None:
        env["LD_LIBRARY_PATH"] = inherited
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["reason"] is None
    assert result["before"] == inherited
    assert result["after"] == inherited
