"""Constants of the scoring protocol, in one light module (no numpy) that the CLI can read for its help."""

from __future__ import annotations

N_RESAMPLES = 1000  # bootstrap resamples behind every interval, unless a caller asks for others
CONFIDENCE = (2.5, 97.5)  # percentiles of the 95% interval
