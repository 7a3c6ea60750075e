"""Issue text snapshots from the GitHub REST API: ``client`` (a polite client), ``run`` (the resumable
hydration into a DuckDB cache) and ``texts`` (the cache as the ``issue_texts`` config)."""
