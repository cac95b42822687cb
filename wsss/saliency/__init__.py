"""Where the objects are: one saliency map per photo, from a salient-object network (U^2-Net), the
built-in geodesic rule, or the maps a dataset came with (the ``saliency`` stage)."""
