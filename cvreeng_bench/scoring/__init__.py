"""The scorer: tasks, splits, declared inputs, the one predictions reader, metrics and tests, evaluate,
results, the raters' agreement and the leak report. It imports neither the board nor any system."""
