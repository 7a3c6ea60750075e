"""The data pipeline: the pinned sources, one reader per source over the bounded tabular reader, normalizing,
reviewed errata, validation and writing a release (``build`` above runs the chain)."""
