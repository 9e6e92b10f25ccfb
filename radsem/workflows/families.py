"""The registry of user model families a comparison configuration may name.

A configuration file never imports anything: its ``family`` values are looked up in radsem's
built-in families and in this explicit registry. A class enters the registry only through
:func:`register_family` (called from Python) or through an installed package's entry point
in the group ``radsem.families`` (``name = "package.module:Class"`` in its ``pyproject.toml``).
"""

from __future__ import annotations

from importlib import metadata

from radsem.workflows._yaml import ConfigError

__all__ = ["register_family", "unregister_family", "registered_families", "ENTRY_POINT_GROUP"]

#: entry-point group through which installed packages register families
ENTRY_POINT_GROUP = "radsem.families"

_REGISTRY: dict[str, type] = {}

#: Built-in model families: YAML name -> (radsem.compare class, allowed keys)
FAMILIES = {
    "clinical_cox": ("ClinicalCox", ("covariates",)),
    "penalised_cox": ("PenalisedCox", ("features", "penalizer", "l1_ratio", "harmonize", "select")),
    "cluster_cox": ("ClusterCox", ("features", "n_clusters", "metric", "clinical", "random_state")),
    "sem_score_cox": (
        "ScoreCox",
        (
            "model",
            "measurement_only",
            "kind",
            "method",
            "estimator",
            "clinical",
            "columns",
            "penalizer",
        ),
    ),
}


def _check(name: str, cls: object) -> type:
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"a family name must be a Python identifier, got {name!r}")
    if not isinstance(cls, type):
        raise ConfigError(f"family {name!r}: expected a class, got {type(cls).__name__}")
    predict = "predict" if callable(getattr(cls, "predict", None)) else "predict_risk"
    missing = [m for m in ("fit", predict) if not callable(getattr(cls, m, None))]
    if missing:
        raise ConfigError(
            f"family {name!r}: {cls.__qualname__} has no fit/predict_risk methods (missing "
            f"{', '.join(missing)}; see radsem.compare.SurvivalEstimator)"
        )
    return cls


def register_family(name: str, cls: type, *, replace: bool = False) -> None:
    """Let comparison configurations use ``family: name`` for ``cls``.

    Parameters
    ----------
    name : str
        The name used in the configuration (a Python identifier, not a built-in family).
    cls : type
        A survival estimator class (``fit(X, y)`` with scikit-survival's structured ``y``,
        ``predict(X)``; see :class:`radsem.compare.SurvivalEstimator`) or an older family
        with ``fit(train, time, event)`` and ``predict_risk(test)``; the configuration's
        ``params`` are its keyword arguments.
    replace : bool
        Replace an earlier registration of the same name (else that is an error).

    Raises
    ------
    ConfigError
        Invalid name, a name already taken, or a class without ``fit``/``predict_risk``.

    Examples
    --------
    >>> class AgeOnly:
    ...     def fit(self, train, time, event):
    ...         return self
    ...     def predict_risk(self, test):
    ...         return test["age"]
    >>> register_family("age_only", AgeOnly)
    >>> "age_only" in registered_families()
    True
    >>> unregister_family("age_only")
    """
    _check(name, cls)
    if name in FAMILIES:
        raise ConfigError(f"{name!r} is a built-in family and cannot be registered")
    if name in _REGISTRY and _REGISTRY[name] is not cls and not replace:
        raise ConfigError(f"family {name!r} is already registered (pass replace=True)")
    _REGISTRY[name] = cls


def unregister_family(name: str) -> None:
    """Remove a family registered with :func:`register_family` (no error if absent)."""
    _REGISTRY.pop(name, None)


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def registered_families() -> dict[str, str]:
    """``{name: where}`` of the user families a configuration may name (registered in this
    process, then those of installed packages' entry points)."""
    out = {name: f"{cls.__module__}.{cls.__qualname__}" for name, cls in _REGISTRY.items()}
    for name, ep in _entry_points().items():
        out.setdefault(name, ep.value)
    return out


def resolve_family(name: str) -> type:
    """The registered class of ``name``.

    Raises
    ------
    ConfigError
        ``name`` is not registered (the message lists the valid families).
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    ep = _entry_points().get(name)
    if ep is not None:
        return _check(name, ep.load())
    raise ConfigError(f"unknown family {name!r}: {valid_families_text()}")


def valid_families_text() -> str:
    """The sentence listing the valid families, for error messages."""
    user = sorted(registered_families())
    text = f"valid families are {', '.join(FAMILIES)} (built in)"
    text += f" and {', '.join(user)} (registered)" if user else ""
    return (
        text + "; a class of your own must first be registered with "
        "radsem.workflows.register_family(name, cls) or an entry point in the group "
        f"'{ENTRY_POINT_GROUP}' (a configuration never imports code)"
    )
