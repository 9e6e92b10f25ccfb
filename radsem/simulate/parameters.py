"""Default generating parameters of the simulated cervical-cancer cohorts.

Everything the generator draws from is defined here as plain Python data, so that the
parameters can be documented, copied into ``truth.json`` and changed by a user (pass a modified
:class:`SimulationParameters` to :func:`radsem.simulate.simulate_cohort`).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

__all__ = ["SimulationParameters", "default_parameters", "MECHANISMS", "FIGO_STAGES"]

#: Latent oncogenic mechanisms, in the order used by every vector and matrix below.
MECHANISMS: tuple[str, ...] = ("E6", "E7", "immune", "hypoxia")

#: FIGO 2018 substages with their share in a cohort referred for pre-treatment MRI.
FIGO_STAGES: dict[str, float] = {
    "IA1": 0.01,
    "IA2": 0.01,
    "IB1": 0.10,
    "IB2": 0.12,
    "IB3": 0.08,
    "IIA1": 0.03,
    "IIA2": 0.03,
    "IIB": 0.18,
    "IIIA": 0.02,
    "IIIB": 0.06,
    "IIIC1": 0.20,
    "IIIC2": 0.06,
    "IVA": 0.06,
    "IVB": 0.04,
}

# HPV type -> (probability, clade). Worldwide type distribution in invasive cervical cancer.
_HPV_TYPES = {
    "HPV16": (0.55, "A9"),
    "HPV18": (0.15, "A7"),
    "HPV45": (0.06, "A7"),
    "HPV31": (0.04, "A9"),
    "HPV33": (0.04, "A9"),
    "HPV52": (0.04, "A9"),
    "HPV58": (0.04, "A9"),
    "HPV35": (0.02, "A9"),
    "other": (0.02, "other"),
    "negative": (0.04, "negative"),
}

# clade -> P(squamous, adenocarcinoma, adenosquamous)
_HISTOLOGY = {
    "A9": (0.86, 0.09, 0.05),
    "A7": (0.45, 0.45, 0.10),
    "other": (0.70, 0.25, 0.05),
    "negative": (0.35, 0.60, 0.05),
}

# Mean of the latent mechanisms (E6, E7, immune, hypoxia) by HPV type (HPV16 is the reference).
_LATENT_MEANS = {
    "HPV16": (0.0, 0.0, 0.0, 0.0),
    "HPV31": (-0.2, -0.1, 0.2, 0.0),
    "HPV33": (-0.1, -0.2, 0.1, 0.0),
    "HPV35": (-0.2, -0.1, 0.1, 0.0),
    "HPV52": (-0.3, -0.2, 0.2, -0.1),
    "HPV58": (-0.3, -0.2, 0.1, -0.1),
    "HPV18": (0.3, 0.5, -0.5, 0.3),
    "HPV45": (0.4, 0.6, -0.6, 0.3),
    "other": (-0.4, -0.3, 0.0, 0.0),
    "negative": (-1.2, -1.0, -0.3, 0.2),
}

# Correlation of the latent mechanisms within clade (unit variances).
_A9_CORR = (
    (1.00, 0.50, -0.20, 0.10),
    (0.50, 1.00, -0.10, 0.20),
    (-0.20, -0.10, 1.00, -0.30),
    (0.10, 0.20, -0.30, 1.00),
)
_A7_CORR = (
    (1.00, 0.60, -0.30, 0.20),
    (0.60, 1.00, -0.25, 0.30),
    (-0.30, -0.25, 1.00, -0.40),
    (0.20, 0.30, -0.40, 1.00),
)
_OTHER_CORR = (
    (1.00, 0.30, -0.10, 0.10),
    (0.30, 1.00, -0.10, 0.10),
    (-0.10, -0.10, 1.00, -0.20),
    (0.10, 0.10, -0.20, 1.00),
)

# Marker genes: symbol -> (mechanism, standardized loading, mean log2, sd log2).
# p53 targets load negatively on E6 activity (E6 degrades p53); E2F targets and p16 load
# positively on E7 activity; interferon / antigen-presentation genes on immune activity;
# HIF-1 targets on hypoxia.
_MARKERS = {
    "CDKN1A": ("E6", -0.80, 9.5, 1.0),
    "MDM2": ("E6", -0.70, 8.8, 0.8),
    "BAX": ("E6", -0.65, 9.0, 0.7),
    "GADD45A": ("E6", -0.60, 8.2, 0.8),
    "TP53I3": ("E6", -0.70, 7.6, 1.1),
    "FAS": ("E6", -0.55, 7.0, 0.9),
    "SESN1": ("E6", -0.60, 7.4, 0.7),
    "RRM2B": ("E6", -0.65, 7.9, 0.7),
    "ZMAT3": ("E6", -0.55, 6.9, 0.6),
    "TNFRSF10B": ("E6", -0.60, 8.1, 0.8),
    "CDKN2A": ("E7", 0.80, 10.5, 1.4),
    "MKI67": ("E7", 0.75, 8.6, 1.1),
    "MCM2": ("E7", 0.80, 9.2, 0.9),
    "MCM7": ("E7", 0.75, 9.4, 0.8),
    "TOP2A": ("E7", 0.80, 9.8, 1.2),
    "PCNA": ("E7", 0.65, 10.2, 0.7),
    "CCNE1": ("E7", 0.60, 7.8, 0.9),
    "E2F1": ("E7", 0.65, 7.5, 0.8),
    "CDC20": ("E7", 0.70, 8.9, 1.1),
    "CCNA2": ("E7", 0.75, 8.4, 1.0),
    "CDK1": ("E7", 0.75, 8.7, 1.0),
    "BUB1": ("E7", 0.70, 7.7, 0.9),
    "HLA-A": ("immune", 0.60, 12.0, 0.7),
    "HLA-B": ("immune", 0.65, 12.3, 0.7),
    "HLA-C": ("immune", 0.60, 11.6, 0.6),
    "HLA-DQB1": ("immune", 0.55, 8.5, 1.5),
    "B2M": ("immune", 0.55, 13.2, 0.6),
    "CD274": ("immune", 0.65, 6.5, 1.1),
    "STAT1": ("immune", 0.80, 10.1, 0.9),
    "IRF1": ("immune", 0.75, 8.9, 0.8),
    "CXCL9": ("immune", 0.85, 7.9, 1.8),
    "CXCL10": ("immune", 0.85, 8.4, 1.8),
    "IFNG": ("immune", 0.75, 4.8, 1.4),
    "GZMB": ("immune", 0.80, 6.9, 1.5),
    "CD8A": ("immune", 0.80, 6.6, 1.4),
    "CA9": ("hypoxia", 0.80, 7.5, 1.8),
    "VEGFA": ("hypoxia", 0.70, 9.8, 0.9),
    "SLC2A1": ("hypoxia", 0.75, 9.0, 1.1),
    "LDHA": ("hypoxia", 0.65, 11.5, 0.7),
    "PGK1": ("hypoxia", 0.65, 10.8, 0.6),
    "ADM": ("hypoxia", 0.70, 7.8, 1.3),
    "NDRG1": ("hypoxia", 0.75, 9.6, 1.2),
    "BNIP3": ("hypoxia", 0.65, 8.9, 0.9),
}

# Genes outside the measurement model: symbol -> (mean, sd, squamous-vs-adeno shift in log2).
# Histology markers (KRT5, TP63 up in squamous; MUC5AC down) make them realistic covariates.
_OTHER_GENES = {
    "ACTB": (14.0, 0.3, 0.0),
    "GAPDH": (13.5, 0.3, 0.0),
    "RPLP0": (13.0, 0.3, 0.0),
    "TBP": (7.2, 0.4, 0.0),
    "HPRT1": (8.0, 0.4, 0.0),
    "GUSB": (8.5, 0.4, 0.0),
    "PPIA": (12.2, 0.3, 0.0),
    "YWHAZ": (11.5, 0.4, 0.0),
    "SDHA": (9.6, 0.4, 0.0),
    "KRT5": (11.0, 1.6, 2.0),
    "KRT17": (11.5, 1.4, 1.2),
    "TP63": (9.0, 1.5, 2.5),
    "SOX2": (6.5, 1.3, 1.0),
    "MUC5AC": (5.5, 2.0, -2.5),
    "CDH1": (10.5, 0.8, 0.0),
    "VIM": (10.8, 1.0, 0.0),
    "EGFR": (9.0, 1.0, 0.3),
    "ERBB2": (8.6, 0.7, 0.0),
    "PTEN": (9.1, 0.6, 0.0),
    "KRAS": (8.7, 0.5, 0.0),
    "MYC": (9.9, 0.9, 0.0),
    "CCND1": (9.5, 1.1, 0.4),
    "NOTCH1": (8.0, 0.7, 0.0),
    "FBXW7": (7.8, 0.5, 0.0),
    "ARID1A": (8.9, 0.5, 0.0),
    "STK11": (8.4, 0.5, 0.0),
    "ESR1": (6.0, 1.5, 0.0),
    "APOBEC3A": (5.5, 1.6, 0.0),
    "APOBEC3B": (7.6, 1.2, 0.0),
    "YAP1": (9.3, 0.8, 0.0),
    "PIK3CA": (7.9, 0.6, 0.0),
    "LIMCH1": (7.4, 1.1, 0.0),
}

# Scanners: name -> acquisition protocol on the reference grid (z, y, x) = (16, 48, 48).
# Spacings are (slice thickness, row, column) in mm; the field of view of a scanner is kept
# when another image grid is asked for (finer grid -> smaller voxels).
_SCANNERS = {
    "S1_Avanto_1.5T": dict(
        share=0.25,
        field_strength=1.5,
        t2_spacing=(5.0, 1.8, 1.8),
        tr=4500.0,
        te=100.0,
        flip_angle=150.0,
        n_averages=2,
        echo_train_length=15,
        phase_encoding="RL",
        b_values=(0, 50, 400, 800),
        dwi_tr=4000.0,
        dwi_te=78.0,
        gain=1.00,
        noise=1.00,
        adc_bias=1.00,
    ),
    "S2_Achieva_1.5T": dict(
        share=0.20,
        field_strength=1.5,
        t2_spacing=(4.0, 1.7, 1.7),
        tr=3800.0,
        te=90.0,
        flip_angle=90.0,
        n_averages=3,
        echo_train_length=20,
        phase_encoding="AP",
        b_values=(0, 1000),
        dwi_tr=3500.0,
        dwi_te=70.0,
        gain=0.75,
        noise=1.10,
        adc_bias=1.04,
    ),
    "S3_Skyra_3T": dict(
        share=0.25,
        field_strength=3.0,
        t2_spacing=(4.0, 1.5, 1.5),
        tr=5000.0,
        te=105.0,
        flip_angle=160.0,
        n_averages=1,
        echo_train_length=25,
        phase_encoding="RL",
        b_values=(0, 50, 800),
        dwi_tr=4400.0,
        dwi_te=65.0,
        gain=1.60,
        noise=1.00,
        adc_bias=0.97,
    ),
    "S4_MR750_3T": dict(
        share=0.20,
        field_strength=3.0,
        t2_spacing=(4.5, 1.6, 1.6),
        tr=4200.0,
        te=95.0,
        flip_angle=111.0,
        n_averages=2,
        echo_train_length=18,
        phase_encoding="AP",
        b_values=(0, 100, 500, 1000),
        dwi_tr=4800.0,
        dwi_te=72.0,
        gain=2.20,
        noise=1.25,
        adc_bias=1.02,
    ),
    "S5_SignaHDxt_1.5T": dict(
        share=0.10,
        field_strength=1.5,
        t2_spacing=(5.0, 1.9, 1.9),
        tr=3500.0,
        te=85.0,
        flip_angle=90.0,
        n_averages=2,
        echo_train_length=16,
        phase_encoding="AP",
        b_values=(0, 1000),
        dwi_tr=3000.0,
        dwi_te=80.0,
        gain=0.55,
        noise=1.35,
        adc_bias=1.06,
    ),
}


def _clade_corr() -> dict[str, list[list[float]]]:
    return {
        "A9": [list(r) for r in _A9_CORR],
        "A7": [list(r) for r in _A7_CORR],
        "other": [list(r) for r in _OTHER_CORR],
        "negative": [list(r) for r in _OTHER_CORR],
    }


@dataclass
class SimulationParameters:
    """All generating parameters of a simulated cohort (see ``docs/simulate.md``).

    The defaults describe a locally advanced cervical cancer cohort; every attribute is plain
    data (numbers, strings, lists, dicts) and is written verbatim to ``truth.json``.
    """

    mechanisms: tuple[str, ...] = MECHANISMS
    figo_stages: dict = field(default_factory=lambda: dict(FIGO_STAGES))
    hpv_types: dict = field(default_factory=lambda: {k: list(v) for k, v in _HPV_TYPES.items()})
    histology: dict = field(default_factory=lambda: {k: list(v) for k, v in _HISTOLOGY.items()})
    histology_levels: tuple[str, ...] = ("squamous", "adenocarcinoma", "adenosquamous")
    latent_means: dict = field(
        default_factory=lambda: {k: list(v) for k, v in _LATENT_MEANS.items()}
    )
    latent_corr: dict = field(default_factory=_clade_corr)
    # age ~ N(mean, sd) truncated to [low, high]
    age: dict = field(default_factory=lambda: {"mean": 52.0, "sd": 13.0, "low": 23.0, "high": 88.0})
    # stage: ordinal probit score = stage_loadings . eta + 0.015 (age - 50) + N(0, 1)
    stage_loadings: dict = field(
        default_factory=lambda: {"E6": 0.10, "E7": 0.30, "immune": -0.15, "hypoxia": 0.30}
    )
    markers: dict = field(default_factory=lambda: {k: list(v) for k, v in _MARKERS.items()})
    other_genes: dict = field(default_factory=lambda: {k: list(v) for k, v in _OTHER_GENES.items()})
    # expression missingness: logit P(missing) = intercept + site + stage + age effects
    missing_site: dict = field(
        default_factory=lambda: {
            "S1_Avanto_1.5T": -0.6,
            "S2_Achieva_1.5T": 0.3,
            "S3_Skyra_3T": -0.3,
            "S4_MR750_3T": 0.6,
            "S5_SignaHDxt_1.5T": 1.0,
        }
    )
    missing_stage: dict = field(
        default_factory=lambda: {"I": 0.0, "II": -0.2, "III": -0.5, "IV": 0.5}
    )
    missing_age_per_decade: float = 0.25
    scanners: dict = field(default_factory=lambda: copy.deepcopy(_SCANNERS))
    # recurrence: Weibull proportional hazards, h(t) = rate * shape * t^(shape-1) * exp(lp)
    recurrence_log_hr: dict = field(
        default_factory=lambda: {
            "E6": 0.30,
            "E7": 0.35,
            "immune": -0.45,
            "hypoxia": 0.50,
            "stage_II": 0.40,
            "stage_III": 0.90,
            "stage_IV": 1.30,
            "age_per_year": 0.02,
        }
    )
    recurrence_baseline: dict = field(default_factory=lambda: {"rate": 0.006, "shape": 0.85})
    # death from disease after recurrence: Weibull PH on time since recurrence
    death_log_hr: dict = field(
        default_factory=lambda: {
            "E6": 0.15,
            "E7": 0.10,
            "immune": -0.30,
            "hypoxia": 0.35,
            "stage_II": 0.20,
            "stage_III": 0.40,
            "stage_IV": 0.70,
            "age_per_year": 0.02,
        }
    )
    death_baseline: dict = field(default_factory=lambda: {"rate": 0.03, "shape": 1.1})
    # censoring (months): entry uniform over accrual, study closes at study_end; loss to
    # follow-up / death from other causes exponential with the given monthly rate
    censoring: dict = field(
        default_factory=lambda: {"accrual": 60.0, "study_end": 96.0, "loss_rate": 0.004}
    )
    # tumour geometry and appearance (see radsem.simulate.images)
    tumour: dict = field(
        default_factory=lambda: {
            "log_radius_mm": 2.55,
            "radius_stage": [0.0, 0.18, 0.30, 0.40],
            "radius_E7": 0.08,
            "radius_hypoxia": 0.06,
            "radius_sd": 0.15,
            "irregularity": 0.12,
            "irregularity_E7": 0.04,
            "irregularity_hypoxia": 0.04,
            "irregularity_stage": 0.03,
            "heterogeneity": 0.10,
            "heterogeneity_hypoxia": 0.06,
            "heterogeneity_E7": 0.02,
            "adc_tumour": 950.0,
            "adc_E7": -90.0,
            "adc_hypoxia": 60.0,
            "adc_immune": 40.0,
            "adc_stroma": 1550.0,
            "adc_fat": 800.0,
            "t2_tumour_ms": 105.0,
            "t2_stroma_ms": 70.0,
            "t2_fat_ms": 160.0,
            "pd_tumour": 0.95,
            "pd_stroma": 0.80,
            "pd_fat": 1.00,
        }
    )

    def to_dict(self) -> dict:
        """The parameters as JSON-ready plain data."""
        out = asdict(self)
        out["mechanisms"] = list(self.mechanisms)
        out["histology_levels"] = list(self.histology_levels)
        return out


def default_parameters() -> SimulationParameters:
    """A fresh copy of the default generating parameters."""
    return SimulationParameters()
