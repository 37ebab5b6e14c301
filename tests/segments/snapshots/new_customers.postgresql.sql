SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = %(workspace_id_1)s::BIGINT AND contact.merged_into IS NULL AND contact.id IN (SELECT event.contact_id 
FROM event 
WHERE event.workspace_id = %(workspace_id_2)s::BIGINT AND event.name = %(name_1)s::VARCHAR AND event.timestamp BETWEEN %(timestamp_1)s::TIMESTAMP WITH TIME ZONE AND %(timestamp_2)s::TIMESTAMP WITH TIME ZONE) AND NOT (EXISTS (SELECT event.id 
FROM event 
WHERE event.contact_id = contact.id AND event.name = %(name_1)s::VARCHAR AND event.timestamp < %(timestamp_3)s::TIMESTAMP WITH TIME ZONE))
-- parameters: [('name_1', 'Order Completed'), ('timestamp_1', datetime.datetime(2026, 2, 8, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_3', datetime.datetime(2026, 2, 8, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1)]
