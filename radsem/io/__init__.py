"""Cohort folders, tables (CSV/Parquet) and NIfTI images.

SimpleITK is imported only by the functions that read or write images.
"""

from radsem.io.cohort import IMAGE_FILES, Cohort, read_cohort
from radsem.io.images import image_array, read_image, write_image
from radsem.io.tables import atomic_write_bytes, read_table, write_table

__all__ = [
    "Cohort",
    "read_cohort",
    "IMAGE_FILES",
    "read_table",
    "write_table",
    "atomic_write_bytes",
    "read_image",
    "write_image",
    "image_array",
]
