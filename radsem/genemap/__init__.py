"""Which genes shape which image features: a gene-to-radiomics network interpreted by gene
masking (Smedley, Aberle and Hsu, J Med Imaging 2021).

See ``docs/genemap.md``. Quick start::

    from radsem.genemap import join_tables, match_gene_sets, read_gmt, genemap
    data = join_tables(expression, features)
    sets = match_gene_sets(read_gmt("sets.gmt"), data.genes.columns)
    result = genemap(data, sets, seed=1)
    result.write("genemap-output")
"""

from radsem.genemap.data import MIN_PATIENTS, GenemapData, join_tables
from radsem.genemap.gmt import hpv_mechanism_sets, match_gene_sets, read_gmt, write_gmt
from radsem.genemap.models import MODEL_NAMES, GeneNetwork, NetworkSettings
from radsem.genemap.run import GenemapResult, GenemapSettings, genemap

__all__ = [
    "join_tables",
    "GenemapData",
    "MIN_PATIENTS",
    "read_gmt",
    "write_gmt",
    "match_gene_sets",
    "hpv_mechanism_sets",
    "GeneNetwork",
    "NetworkSettings",
    "MODEL_NAMES",
    "genemap",
    "GenemapSettings",
    "GenemapResult",
]
