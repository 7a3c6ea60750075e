-- Figure 5 (RQ1): defect manifestation in each project type.
-- One row per cell of the figure (zeros included): project_type first, then manifestation, the count of defects and
-- percent = share of the project_type's defects (how the paper computes the shares it prints on the bars).
-- Reads the views of a release (in the DuckDB shell: .read views.sql in the release folder).
WITH d AS (
    SELECT * FROM defects WHERE NOT withdrawn
),
grid AS (
    SELECT g.project_type, o.manifestation
    FROM (SELECT DISTINCT project_type FROM d) AS g
    CROSS JOIN (SELECT DISTINCT manifestation FROM d) AS o
),
cells AS (
    SELECT project_type, manifestation, count(*) AS n FROM d GROUP BY ALL
)
SELECT
    grid.project_type,
    grid.manifestation,
    coalesce(cells.n, 0) AS count,
    100.0 * coalesce(cells.n, 0) / sum(coalesce(cells.n, 0)) OVER (PARTITION BY grid.project_type) AS percent
FROM grid
LEFT JOIN cells ON cells.project_type IS NOT DISTINCT FROM grid.project_type AND cells.manifestation IS NOT DISTINCT FROM grid.manifestation
LEFT JOIN taxonomy AS tg ON tg.dimension = 'project_type' AND tg.label = grid.project_type
LEFT JOIN taxonomy AS t_o ON t_o.dimension = 'manifestation' AND t_o.label = grid.manifestation
ORDER BY tg.position NULLS LAST, t_o.position NULLS LAST;
