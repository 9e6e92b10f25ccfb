"""Progress bars: silent stand-ins when switched off, usable inside joblib worker processes."""

from __future__ import annotations

from joblib import Parallel, delayed

from radsem._progress import bars_wanted, progress_bar


def _count_in_worker(n: int) -> int:
    bar = progress_bar(range(n), enabled=False, desc="x")
    total = 0
    for _ in bar:
        total += 1
        bar.set_postfix(loss="0.1")
        bar.update()
    bar.close()
    return total


def test_silent_bar_iterates_and_ignores_calls():
    assert _count_in_worker(4) == 4
    with progress_bar(enabled=False) as bar:
        bar.update(3)


def test_silent_bar_works_in_loky_workers():
    counts = Parallel(n_jobs=2, backend="loky")(delayed(_count_in_worker)(k) for k in (2, 3))
    assert counts == [2, 3]


def test_enabled_bar_is_tqdm_on_a_terminal_only(monkeypatch, capsys):
    from tqdm.auto import tqdm

    monkeypatch.setenv("RADSEM_PROGRESS", "1")
    bar = progress_bar(range(2), enabled=True, desc="y")
    assert isinstance(bar, tqdm)
    assert list(bar) == [0, 1]
    bar.close()
    assert "y: 100%" in capsys.readouterr().err
    monkeypatch.delenv("RADSEM_PROGRESS")  # pytest's stderr is not a terminal: no bar
    assert not isinstance(progress_bar(range(2), enabled=True), tqdm)
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert bars_wanted(True)
    assert not bars_wanted(False)
    monkeypatch.setenv("RADSEM_PROGRESS", "0")
    assert not bars_wanted(True)


class _Terminal:
    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_long_steps_draw_bars_when_asked(monkeypatch, capsys):
    """K selection and the SEM bootstrap report progress on stderr (forced on: not a tty)."""
    import numpy as np

    import radsem
    from radsem.cluster.choose_k import choose_k
    from radsem.datasets import load

    monkeypatch.setenv("RADSEM_PROGRESS", "1")
    X = np.random.default_rng(0).normal(size=(40, 3))
    choose_k(X, ks=[2, 3], n_refs=2, n_subsamples=2, progress=True)
    assert "choosing K: 100%" in capsys.readouterr().err
    fit = radsem.cfa("f =~ x1 + x2 + x3", data=load("HolzingerSwineford1939"))
    fit.bootstrap(R=4, seed=1, progress=True)
    assert "SEM bootstrap: 100%" in capsys.readouterr().err
    choose_k(X, ks=[2, 3], n_refs=2, n_subsamples=2, progress=False)
    assert capsys.readouterr().err == ""


def test_verbose_and_quiet_set_the_log_level(capsys):
    import logging

    from radsem._dask import map_tasks
    from radsem._logging import configure_logging

    try:
        assert configure_logging(verbose=True) == logging.DEBUG
        map_tasks(abs, [-1, 2])
        assert "2 task(s) of abs in this process" in capsys.readouterr().err
        assert configure_logging(quiet=True) == logging.WARNING
        map_tasks(abs, [-1, 2])
        logging.getLogger("radsem.demo").info("step done")
        assert capsys.readouterr().err == ""
        assert configure_logging() == logging.INFO
        logging.getLogger("radsem.demo").info("step done")
        assert capsys.readouterr().err == "step done\n"
    finally:
        logger = logging.getLogger("radsem")
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def test_every_command_has_verbose_and_quiet():
    import argparse

    from radsem import cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sub.choices
    for name, command in sub.choices.items():
        assert {"--verbose", "--quiet"} <= set(command._option_string_actions), name


def test_radsem_fit_se_bootstrap_draws_a_bar(monkeypatch, capsys, tmp_path):
    """``radsem fit --se bootstrap`` shows the bootstrap's bar; ``--quiet`` hides it."""
    from radsem.cli import main
    from radsem.datasets import load

    # the textual factor: strong loadings, so no bootstrap replicate is improper
    data = load("HolzingerSwineford1939")[["x4", "x5", "x6"]]
    data.to_csv(tmp_path / "hs.csv", index=False)
    (tmp_path / "m.lav").write_text("f =~ x4 + x5 + x6\n")
    monkeypatch.setenv("RADSEM_PROGRESS", "1")
    args = ["fit", str(tmp_path / "m.lav"), str(tmp_path / "hs.csv"), "--se", "bootstrap"]
    args += ["--bootstrap", "200", "--seed", "7"]
    assert main([*args, "--out", str(tmp_path / "a"), "--format", "csv"]) == 0
    assert "SEM bootstrap: 100%" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "b"), "--format", "csv", "--quiet"]) == 0
    assert "SEM bootstrap" not in capsys.readouterr().err
    # the same seed gives the same bytes
    for name in ("parameters.csv", "fit_measures.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_radsem_fit_bootstrap_options_need_se_bootstrap(tmp_path, capsys):
    """``--bootstrap``/``--seed`` without ``--se bootstrap`` is a usage error (exit 3)."""
    from radsem.cli import main
    from radsem.datasets import load

    load("HolzingerSwineford1939")[["x4", "x5", "x6"]].to_csv(tmp_path / "hs.csv", index=False)
    (tmp_path / "m.lav").write_text("f =~ x4 + x5 + x6\n")
    code = main(["fit", str(tmp_path / "m.lav"), str(tmp_path / "hs.csv"), "--seed", "3"])
    assert code == 3
    assert "need se='bootstrap'" in capsys.readouterr().err
