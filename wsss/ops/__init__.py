"""Array and tensor kernels shared by several layers (models, maps, refiners, training): affinity pairs, PAMR."""
