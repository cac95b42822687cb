"""One self-contained HTML report of a pipeline run, built from its artifacts only (no maps are
recomputed): metrics per stage, curves, per-class scores, the confusion matrix and image galleries."""
