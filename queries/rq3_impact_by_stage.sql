-- Figure 9 (RQ3): defect impacts in each DL stage.
-- One row per cell of the figure (zeros included): stage first, then impact, the count of defects and
-- percent = share of the stage's defects (how the paper computes the shares it prints on the bars).
-- Reads the views of a release (in the DuckDB shell: .read views.sql in the release folder).
WITH d AS (
    SELECT * FROM defects WHERE NOT withdrawn
),
grid AS (
    SELECT g.stage, o.impact
    FROM (SELECT DISTINCT stage FROM d) AS g
    CROSS JOIN (SELECT DISTINCT impact FROM d) AS o
),
cells AS (
    SELECT stage, impact, count(*) AS n FROM d GROUP BY ALL
)
SELECT
    grid.stage,
    grid.impact,
    coalesce(cells.n, 0) AS count,
    100.0 * coalesce(cells.n, 0) / sum(coalesce(cells.n, 0)) OVER (PARTITION BY grid.stage) AS percent
FROM grid
LEFT JOIN cells ON cells.stage IS NOT DISTINCT FROM grid.stage AND cells.impact IS NOT DISTINCT FROM grid.impact
LEFT JOIN taxonomy AS tg ON tg.dimension = 'stage' AND tg.label = grid.stage
LEFT JOIN taxonomy AS t_o ON t_o.dimension = 'impact' AND t_o.label = grid.impact
ORDER BY tg.position NULLS LAST, t_o.position NULLS LAST;
