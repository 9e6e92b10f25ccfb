"""Warnings raised inside radsem are attributed to the user's line, whatever the call path."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import radsem
from radsem._warnings import user_stacklevel
from radsem.errors import DataWarning


def test_user_stacklevel_outside_the_package_is_one_level_up():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("here", UserWarning, stacklevel=user_stacklevel())
    assert caught[0].filename == __file__


def test_sem_warning_points_at_the_calling_line():
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.normal(size=(60, 3)), columns=["y1", "y2", "y3"])
    data.iloc[:5, 0] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        radsem.sem("f =~ y1 + y2 + y3", data=data)  # listwise deletion warns
    ours = [w for w in caught if issubclass(w.category, DataWarning)]
    assert ours, [str(w.message) for w in caught]
    assert all(w.filename == __file__ for w in ours)
