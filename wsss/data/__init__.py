"""Datasets: VOC 2012 (+SBD), custom folders and the embedded demo, all written as one index format."""
