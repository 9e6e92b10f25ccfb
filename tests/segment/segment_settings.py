"""Settings shared by the segmentation tests (a module of its own: ``conftest`` is not a unique
module name in this suite)."""

#: A network small enough to train a couple of epochs in seconds.
TINY = {
    "channels": (4, 8),
    "strides": ((1, 2, 2),),
    "patch_size": (8, 16, 16),
    "batch_size": 4,
    "patches_per_case": 2,
}
