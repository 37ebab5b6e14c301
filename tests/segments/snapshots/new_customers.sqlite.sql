SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = ? AND contact.merged_into IS NULL AND contact.id IN (SELECT event.contact_id 
FROM event 
WHERE event.workspace_id = ? AND event.name = ? GROUP BY event.contact_id 
HAVING coalesce(min(event.timestamp) BETWEEN ? AND ?, 0) = 1)
-- parameters: [('name_1', 'Order Completed'), ('param_1', datetime.datetime(2026, 2, 8, 12, 0, tzinfo=datetime.timezone.utc)), ('param_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1)]
