SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = %(workspace_id_1)s::BIGINT AND contact.merged_into IS NULL AND contact.id IN (SELECT event.contact_id 
FROM event 
WHERE event.workspace_id = %(workspace_id_2)s::BIGINT AND event.name = %(name_1)s::VARCHAR AND event.timestamp >= %(timestamp_1)s::TIMESTAMP WITH TIME ZONE AND event.timestamp <= %(timestamp_2)s::TIMESTAMP WITH TIME ZONE GROUP BY event.contact_id 
HAVING coalesce(coalesce(sum(CASE WHEN (jsonb_typeof((event.properties -> %(properties_1)s::TEXT)) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(CAST((event.properties ->> %(properties_2)s::TEXT) AS VARCHAR) AS FLOAT) END), %(coalesce_1)s::INTEGER) > %(coalesce_2)s::INTEGER, false))
-- parameters: [('coalesce_1', 0), ('coalesce_2', 70), ('jsonb_typeof_1', 'number'), ('name_1', 'Order Completed'), ('properties_1', 'revenue'), ('properties_2', 'revenue'), ('timestamp_1', datetime.datetime(2026, 2, 8, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1)]
