"""Constants of the scoring protocol, in one light module (no numpy) that the CLI can read for its help."""

from __future__ import annotations

N_RESAMPLES = 1000  # bootstrap resamples behind every interval, unless a caller asks for others
CONFIDENCE = (2.5, 97.5)  # percentiles of the 95% interval
N_ROUNDS = 10_000  # permutation rounds behind every p-value (p = (k + 1) / (N_ROUNDS + 1), never 0)
ALPHA = 0.05  # the level at which a system beats chance, and at which two ranked systems are told apart
RANKING = 4  # the board's ranking rules (README, "The leaderboard"; board.ranking): protocol v4
PROTOCOL = 3  # the scoring protocol's version (README, "Scoring protocol"); memoized board scores are keyed by it
