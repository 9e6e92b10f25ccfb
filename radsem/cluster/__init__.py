"""k-medoids radiomic clusters and the Halle et al. (2024) procedure: renumbering by event rate,
feature ranking, cluster characterisation and the choice of K."""

from radsem.cluster.characterise import characterise_clusters, differential_expression
from radsem.cluster.choose_k import ChooseKResult, choose_k
from radsem.cluster.halle import feature_ranking, renumber_by_event_rate
from radsem.cluster.kmedoids import KMedoids, dissimilarity

__all__ = [
    "KMedoids",
    "dissimilarity",
    "renumber_by_event_rate",
    "feature_ranking",
    "characterise_clusters",
    "differential_expression",
    "choose_k",
    "ChooseKResult",
]
