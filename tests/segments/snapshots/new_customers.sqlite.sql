SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = ? AND contact.merged_into IS NULL AND contact.id IN (SELECT event.contact_id 
FROM event 
WHERE event.workspace_id = ? AND event.name = ? AND event.timestamp BETWEEN ? AND ?) AND NOT (EXISTS (SELECT event.id 
FROM event 
WHERE event.contact_id = contact.id AND event.name = ? AND event.timestamp < ?))
-- parameters: [('name_1', 'Order Completed'), ('timestamp_1', datetime.datetime(2026, 2, 8, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_3', datetime.datetime(2026, 2, 8, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1)]
