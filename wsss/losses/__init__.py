"""Loss functions, one module per method."""
