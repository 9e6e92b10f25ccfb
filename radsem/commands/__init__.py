"""Sub-commands of the ``radsem`` command line; see :mod:`radsem.cli`."""

__all__: list[str] = []
