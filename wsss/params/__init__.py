"""Each method's params sections, one module per method (the shared ones are in :mod:`wsss.config`)."""
