-- Figure 6 (RQ1): defect manifestation for each reporter type.
-- One row per cell of the figure (zeros included): reporter first, then manifestation, the count of defects and
-- percent = share of the reporter's defects (how the paper computes the shares it prints on the bars).
-- Reads the views of a release (in the DuckDB shell: .read views.sql in the release folder).
WITH d AS (
    SELECT * FROM defects WHERE NOT withdrawn
),
grid AS (
    SELECT g.reporter, o.manifestation
    FROM (SELECT DISTINCT reporter FROM d) AS g
    CROSS JOIN (SELECT DISTINCT manifestation FROM d) AS o
),
cells AS (
    SELECT reporter, manifestation, count(*) AS n FROM d GROUP BY ALL
)
SELECT
    grid.reporter,
    grid.manifestation,
    coalesce(cells.n, 0) AS count,
    100.0 * coalesce(cells.n, 0) / sum(coalesce(cells.n, 0)) OVER (PARTITION BY grid.reporter) AS percent
FROM grid
LEFT JOIN cells ON cells.reporter IS NOT DISTINCT FROM grid.reporter AND cells.manifestation IS NOT DISTINCT FROM grid.manifestation
LEFT JOIN taxonomy AS tg ON tg.dimension = 'reporter' AND tg.label = grid.reporter
LEFT JOIN taxonomy AS t_o ON t_o.dimension = 'manifestation' AND t_o.label = grid.manifestation
ORDER BY tg.position NULLS LAST, t_o.position NULLS LAST;
