-- Table 4: the studied repositories with the paper's figures and the counts this release derives from
-- the data (n_*), which should equal sampled_issues, reengineering_issues and defects.
SELECT
    repo, family, repo_type, origin, stars_k, forks_k, closed_issues, qualified_issues,
    sampled_issues, n_sampled, reengineering_issues, n_reengineering_issues, defects, n_defects
FROM repositories
ORDER BY table4_row;
