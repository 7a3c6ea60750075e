-- The shares the paper's text quotes for RQ1-RQ4 (Sec. 6.1-6.4 and the figure captions), recomputed:
-- one row per claim with its numerator, denominator and percent.
WITH d AS (
    SELECT * FROM defects WHERE NOT withdrawn
),
claims (rq, figure, claim, numerator, denominator) AS (
    SELECT 'RQ1', 'Fig. 5', 'defects found in user forks',
        count(*) FILTER (WHERE project_type = 'User "fork"'), count(*) FROM d
    UNION ALL SELECT 'RQ1', 'Fig. 5', 'basic defects among user-fork defects',
        count(*) FILTER (WHERE manifestation = 'Basic defects'),
        count(*) FROM d WHERE project_type = 'User "fork"'
    UNION ALL SELECT 'RQ1', 'Fig. 5', 'reproducibility defects found in user forks',
        count(*) FILTER (WHERE project_type = 'User "fork"'),
        count(*) FROM d WHERE manifestation = 'Reproducibility defects'
    UNION ALL SELECT 'RQ1', 'Fig. 6', 'defects reported by re-users',
        count(*) FILTER (WHERE reporter = 'Re-user'), count(*) FROM d
    UNION ALL SELECT 'RQ1', 'Fig. 6', 'defects reported by replicators',
        count(*) FILTER (WHERE reporter = 'Replicator'), count(*) FROM d
    UNION ALL SELECT 'RQ1', 'Fig. 6', 'reproducibility defects reported by re-users',
        count(*) FILTER (WHERE reporter = 'Re-user'),
        count(*) FROM d WHERE manifestation = 'Reproducibility defects'
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'defects in environment, training or data pipeline',
        count(*) FILTER (WHERE stage IN ('Environment', 'Training', 'Data pipeline')), count(*) FROM d
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'defects in training',
        count(*) FILTER (WHERE stage = 'Training'), count(*) FROM d
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'defects in the data pipeline',
        count(*) FILTER (WHERE stage = 'Data pipeline'), count(*) FROM d
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'defects in modeling',
        count(*) FILTER (WHERE stage = 'Modeling'), count(*) FROM d
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'reproducibility defects in training',
        count(*) FILTER (WHERE stage = 'Training'),
        count(*) FROM d WHERE manifestation = 'Reproducibility defects'
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'evolutionary defects in training',
        count(*) FILTER (WHERE stage = 'Training'),
        count(*) FROM d WHERE manifestation = 'Evolutionary defects'
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'evolutionary defects among data-pipeline defects',
        count(*) FILTER (WHERE manifestation = 'Evolutionary defects'),
        count(*) FROM d WHERE stage = 'Data pipeline'
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'basic defects among data-pipeline defects',
        count(*) FILTER (WHERE manifestation = 'Basic defects'), count(*) FROM d WHERE stage = 'Data pipeline'
    UNION ALL SELECT 'RQ1', 'Fig. 7', 'basic defects among modeling defects',
        count(*) FILTER (WHERE manifestation = 'Basic defects'), count(*) FROM d WHERE stage = 'Modeling'
    UNION ALL SELECT 'RQ2', 'Fig. 8', 'interface defects among environment defects',
        count(*) FILTER (WHERE defect_type IN ('External interface', 'Internal interface')),
        count(*) FROM d WHERE stage = 'Environment'
    UNION ALL SELECT 'RQ2', 'Fig. 8', 'external interface defects among environment defects',
        count(*) FILTER (WHERE defect_type = 'External interface'), count(*) FROM d WHERE stage = 'Environment'
    UNION ALL SELECT 'RQ2', 'Fig. 8', 'internal interface defects among environment defects',
        count(*) FILTER (WHERE defect_type = 'Internal interface'), count(*) FROM d WHERE stage = 'Environment'
    UNION ALL SELECT 'RQ2', 'Fig. 8', 'assignment/initialization defects among data-pipeline defects',
        count(*) FILTER (WHERE defect_type = 'Assignment/initialization'),
        count(*) FROM d WHERE stage = 'Data pipeline'
    UNION ALL SELECT 'RQ2', 'Fig. 8', 'assignment/initialization defects among modeling defects',
        count(*) FILTER (WHERE defect_type = 'Assignment/initialization'), count(*) FROM d WHERE stage = 'Modeling'
    UNION ALL SELECT 'RQ2', 'Fig. 8', 'internal interface defects among data-pipeline defects',
        count(*) FILTER (WHERE defect_type = 'Internal interface'), count(*) FROM d WHERE stage = 'Data pipeline'
    UNION ALL SELECT 'RQ3', 'Fig. 9', 'crashes among environment defects',
        count(*) FILTER (WHERE impact = 'Crash'), count(*) FROM d WHERE stage = 'Environment'
    UNION ALL SELECT 'RQ3', 'Fig. 9', 'crashes among data-pipeline defects',
        count(*) FILTER (WHERE impact = 'Crash'), count(*) FROM d WHERE stage = 'Data pipeline'
    UNION ALL SELECT 'RQ3', 'Fig. 9', 'crashes among modeling defects',
        count(*) FILTER (WHERE impact = 'Crash'), count(*) FROM d WHERE stage = 'Modeling'
    UNION ALL SELECT 'RQ3', 'Fig. 9', 'training defects that do not crash',
        count(*) FILTER (WHERE impact <> 'Crash'), count(*) FROM d WHERE stage = 'Training'
    UNION ALL SELECT 'RQ3', 'Fig. 9', 'accuracy below expectations among training defects',
        count(*) FILTER (WHERE impact = 'Accuracy below expectations'), count(*) FROM d WHERE stage = 'Training'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'API defects among environment defects',
        count(*) FILTER (WHERE root_cause = 'API defect'), count(*) FROM d WHERE stage = 'Environment'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'wrong environment configuration among environment defects',
        count(*) FILTER (WHERE root_cause = 'Wrong environment configuration'),
        count(*) FROM d WHERE stage = 'Environment'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'GPU usage bugs among environment defects',
        count(*) FILTER (WHERE root_cause = 'GPU usage bug'), count(*) FROM d WHERE stage = 'Environment'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'data preprocessing among data-pipeline defects',
        count(*) FILTER (WHERE root_cause = 'Data preprocessing'), count(*) FROM d WHERE stage = 'Data pipeline'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'training data quality among data-pipeline defects',
        count(*) FILTER (WHERE root_cause = 'Training data quality'),
        count(*) FROM d WHERE stage = 'Data pipeline'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'corrupt data among data-pipeline defects',
        count(*) FILTER (WHERE root_cause = 'Corrupt data'), count(*) FROM d WHERE stage = 'Data pipeline'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'model/weight among modeling defects',
        count(*) FILTER (WHERE root_cause = 'Model/weight'), count(*) FROM d WHERE stage = 'Modeling'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'layer properties among modeling defects',
        count(*) FILTER (WHERE root_cause = 'Layer properties'), count(*) FROM d WHERE stage = 'Modeling'
    UNION ALL SELECT 'RQ4', 'Fig. 10', 'network structure among modeling defects',
        count(*) FILTER (WHERE root_cause = 'Network structure'), count(*) FROM d WHERE stage = 'Modeling'
)
SELECT rq, figure, claim, numerator, denominator,
    CASE WHEN denominator = 0 THEN NULL ELSE 100.0 * numerator / denominator END AS percent
FROM claims;
