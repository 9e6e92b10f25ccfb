"""Image geometry: whether two images share a voxel grid, and a short description of one."""

from __future__ import annotations

import numpy as np

__all__ = ["same_grid", "describe_grid", "GEOMETRY_TOL"]

#: Relative tolerance on spacing, origin (in voxels) and direction cosines.
GEOMETRY_TOL = 1e-3


def same_grid(a, b) -> bool:
    """Whether two SimpleITK images have the same size, spacing, origin and direction
    (within :data:`GEOMETRY_TOL`)."""
    return (
        a.GetSize() == b.GetSize()
        and np.allclose(a.GetSpacing(), b.GetSpacing(), rtol=GEOMETRY_TOL, atol=1e-6)
        and np.allclose(
            a.GetOrigin(), b.GetOrigin(), atol=GEOMETRY_TOL * max(min(a.GetSpacing()), 1e-6)
        )
        and np.allclose(a.GetDirection(), b.GetDirection(), atol=GEOMETRY_TOL)
    )


def describe_grid(image) -> str:
    """``size ..., spacing ..., origin ...`` of a SimpleITK image, for error messages."""
    return (
        f"size {image.GetSize()}, spacing "
        f"{tuple(round(s, 4) for s in image.GetSpacing())}, origin "
        f"{tuple(round(o, 3) for o in image.GetOrigin())}"
    )
