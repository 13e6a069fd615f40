"""Labelled scenario streams for the detection evaluation (bench only, not shipped).

``plan`` draws the cases of a run, ``streams.generate`` writes one case's
mentions, watchlist and labels; ``variants`` holds the tuned and the held-out
configuration. See docs/detection.md, "Evaluation".
"""
