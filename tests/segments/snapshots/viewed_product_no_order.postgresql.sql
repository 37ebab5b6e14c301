SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = %(workspace_id_1)s::BIGINT AND contact.merged_into IS NULL AND contact.id IN (SELECT event.contact_id 
FROM event 
WHERE event.workspace_id = %(workspace_id_2)s::BIGINT AND event.name = %(name_1)s::VARCHAR AND coalesce(CASE WHEN (jsonb_typeof((event.properties -> %(properties_1)s::TEXT)) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST((event.properties ->> %(properties_2)s::TEXT) AS VARCHAR) END = %(param_1)s::VARCHAR, false) AND event.timestamp >= %(timestamp_1)s::TIMESTAMP WITH TIME ZONE AND event.timestamp <= %(timestamp_2)s::TIMESTAMP WITH TIME ZONE GROUP BY event.contact_id 
HAVING count(*) >= %(count_1)s::INTEGER) AND NOT (EXISTS (SELECT event.id 
FROM event 
WHERE event.contact_id = contact.id AND event.name = %(name_2)s::VARCHAR AND event.timestamp >= %(timestamp_3)s::TIMESTAMP WITH TIME ZONE AND event.timestamp <= %(timestamp_4)s::TIMESTAMP WITH TIME ZONE))
-- parameters: [('count_1', 3), ('jsonb_typeof_1', 'string'), ('name_1', 'Product Viewed'), ('name_2', 'Order Completed'), ('param_1', 'P1'), ('properties_1', 'product_id'), ('properties_2', 'product_id'), ('timestamp_1', datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_3', datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_4', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1)]
