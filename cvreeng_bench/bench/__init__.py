"""The classifier benchmark: tasks (registry), splits, evaluation, baselines, human ceiling, leaderboard."""
