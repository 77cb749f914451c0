-- The episode view keeps which evaluations went overdue and were not recorded since (the operator's page
-- counts them per practice). Rows folded before this column existed get it from the pathway's own events.
ALTER TABLE episode_view ADD COLUMN overdue_open INTEGER[] NOT NULL DEFAULT '{}';

UPDATE episode_view v SET overdue_open = open.numbers
FROM (
    SELECT o.stream_id, array_agg(DISTINCT (o.data ->> 'evaluation_number')::int) AS numbers
    FROM events o
    WHERE o.event_type = 'nl.ruggengraat.pathway.EvaluationOverdue'
      AND NOT EXISTS (
          SELECT 1 FROM events c
          WHERE c.stream_id = o.stream_id
            AND c.event_type = 'nl.ruggengraat.pathway.EvaluationCompleted'
            AND c.data ->> 'evaluation_number' = o.data ->> 'evaluation_number'
      )
    GROUP BY o.stream_id
) AS open
WHERE v.episode_id = open.stream_id;
