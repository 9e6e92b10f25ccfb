"""Fitting EFA and ESEM models: identify, fit the unrotated model, rotate.

:func:`fit_esem` fits lavaan syntax with ``efa("block")*`` modifiers; :func:`fit_efa` is
lavaan's ``efa()``: one efa block of ``nfactors`` factors on all variables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import pandas as pd

from radsem.errors import DataError, EstimationError
from radsem.estimation.rotation.fit import EfaFit
from radsem.estimation.rotation.model import rotation_options
from radsem.estimation.rotation.start import efa_starts
from radsem.syntax.efa import efa_spec, efa_syntax, split_efa

__all__ = ["fit_esem", "fit_efa", "wants_efa", "EfaList"]


def wants_efa(model: str) -> bool:
    """Whether lavaan syntax has ``efa("block")*`` modifiers."""
    return isinstance(model, str) and bool(split_efa(model)[1])


def fit_esem(
    model: str,
    data: pd.DataFrame,
    model_type: str = "sem",
    *,
    rotation: str = "geomin",
    rotation_args: Mapping | None = None,
    rotation_se: str = "bordered",
    **options,
) -> EfaFit:
    """Fit a model with efa blocks and rotate them (see :func:`radsem.efa`)."""
    from radsem.estimation.families.continuous import fit_continuous

    if rotation_se not in ("bordered", "delta"):
        raise EstimationError(f"rotation_se must be 'bordered' or 'delta', got {rotation_se!r}")
    if options.get("ordered") or options.get("group") is not None:
        raise EstimationError(
            "efa blocks are available for continuous single-group data (no ordered, no group)"
        )
    if options.get("se") == "bootstrap":
        raise EstimationError("se='bootstrap' is not available for efa (rotated) models")
    opts = rotation_options(rotation, rotation_args)
    if opts.method == "promax":  # lavaan: no standard errors after promax
        options["se"] = "none"
    text, blocks = split_efa(model)

    def identify(spec):
        return efa_starts(efa_spec(spec, blocks), blocks, data)

    fit = fit_continuous(text, data, model_type, spec_transform=identify, **options)
    return EfaFit.from_unrotated(fit, blocks, opts, rotation_se, model)


class EfaList(Mapping):
    """Fits for several numbers of factors (lavaan's ``efaList``), keyed ``"nf1"``, ...

    ``fit_measures()`` gives one column per fit, ``summary()`` the loadings of each.
    """

    def __init__(self, fits: dict[str, EfaFit]) -> None:
        self._fits = dict(fits)

    def __getitem__(self, key: str) -> EfaFit:
        return self._fits[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fits)

    def __len__(self) -> int:
        return len(self._fits)

    def __repr__(self) -> str:
        return f"<EfaList {', '.join(self._fits)}>"

    def fit_measures(self) -> pd.DataFrame:
        """One column of ``fit_measures()`` per number of factors."""
        return pd.DataFrame({k: f.fit_measures() for k, f in self._fits.items()})

    def loadings(self) -> dict[str, pd.DataFrame]:
        """The rotated loadings of each fit."""
        return {k: f.loadings() for k, f in self._fits.items()}

    def summary(self) -> str:
        """Loadings of each fit and a table of fit measures."""
        parts = []
        for k, f in self._fits.items():
            parts.append(f"{k}: {k[2:]} factor(s), rotation {f.rotation.method}\n")
            parts.append(f.loadings().round(3).to_string() + "\n")
        keys = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic"]
        fm = self.fit_measures()
        parts.append(fm.loc[[k for k in keys if k in fm.index]].round(3).to_string())
        return "\n".join(parts)


def fit_efa(
    data: pd.DataFrame,
    nfactors: int | Sequence[int] = 1,
    *,
    rotation: str = "geomin",
    rotation_args: Mapping | None = None,
    ov_names: Sequence[str] | None = None,
    **options,
) -> EfaFit | EfaList:
    """lavaan's ``efa()``; see :func:`radsem.efa`."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    names = list(data.columns if ov_names is None else ov_names)
    missing = [v for v in names if v not in data.columns]
    if missing:
        raise DataError(f"ov_names not in the data: {', '.join(map(str, missing))}")
    several = not isinstance(nfactors, int)
    counts = [int(k) for k in (nfactors if several else [nfactors])]
    p = len(names)
    nmax = 0
    for k in range(1, p + 1):  # identified: k p + k (k+1)/2 + p - k^2 <= p (p+1)/2
        if k * p + k * (k + 1) // 2 + p - k * k > p * (p + 1) // 2:
            break
        nmax = k
    bad = [k for k in counts if k < 1 or k > nmax]
    if bad:
        raise EstimationError(f"nfactors must be between 1 and {nmax} for {p} variables, got {bad}")
    if options.get("group") is not None:
        raise EstimationError("efa() has no support for several groups (as lavaan 0.6-14)")
    frame = data[names]
    fits = {
        f"nf{k}": fit_esem(
            efa_syntax(names, k),
            frame,
            "sem",
            rotation=rotation,
            rotation_args=rotation_args,
            **options,
        )
        for k in counts
    }
    if several:
        return EfaList(fits)
    return fits[f"nf{counts[0]}"]
