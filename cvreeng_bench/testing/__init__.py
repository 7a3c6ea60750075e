"""Local servers that behave like the real APIs (status codes, headers, pagination, rate limits), for the
tests and the benchmarks: nothing here reaches the network."""
