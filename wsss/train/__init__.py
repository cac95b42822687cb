"""The one training engine every method uses, and its optimiser/schedule."""
