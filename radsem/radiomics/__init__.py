"""Radiomic profiling: multi-sequence pyradiomics extraction and protocol harmonisation.

pyradiomics and SimpleITK are imported only when an image is read or features are extracted.
"""

from radsem.radiomics.batch import ExtractionResult, extract_cohort, images_table
from radsem.radiomics.combat import ComBatHarmonizer
from radsem.radiomics.extract import extract_patient, read_volume
from radsem.radiomics.harmonize import ProtocolHarmonizer, protocol_association
from radsem.radiomics.settings import DEFAULT_SETTINGS, SERIES, resolve_settings

__all__ = [
    "extract_patient",
    "extract_cohort",
    "ExtractionResult",
    "images_table",
    "read_volume",
    "resolve_settings",
    "DEFAULT_SETTINGS",
    "SERIES",
    "ProtocolHarmonizer",
    "protocol_association",
    "ComBatHarmonizer",
]
