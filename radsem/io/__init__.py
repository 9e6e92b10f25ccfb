"""Cohort folders, tables (CSV/Parquet) and NIfTI images.

SimpleITK is imported only by the functions that read or write images.
"""

from radsem.io.cohort import IMAGE_FILES, Cohort, read_cohort
from radsem.io.guard import check_outputs
from radsem.io.images import check_plausible, image_array, read_image, write_image
from radsem.io.tables import (
    atomic_write_bytes,
    atomic_write_many,
    fsync_folder,
    read_table,
    table_bytes,
    write_table,
)

__all__ = [
    "Cohort",
    "read_cohort",
    "IMAGE_FILES",
    "read_table",
    "write_table",
    "table_bytes",
    "atomic_write_bytes",
    "atomic_write_many",
    "fsync_folder",
    "check_outputs",
    "read_image",
    "check_plausible",
    "write_image",
    "image_array",
]
