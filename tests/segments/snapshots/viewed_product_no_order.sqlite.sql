SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = ? AND contact.merged_into IS NULL AND contact.id IN (SELECT event.contact_id + ? AS anon_1 
FROM event 
WHERE event.workspace_id = ? AND event.name = ? AND coalesce(json_extract(event.properties, ?) = ?, 0) = 1 AND event.timestamp >= ? AND event.timestamp <= ? GROUP BY event.contact_id + ? 
HAVING count(*) >= ?) AND NOT (EXISTS (SELECT event.id 
FROM event 
WHERE event.contact_id = contact.id AND event.name = ? AND event.timestamp >= ? AND event.timestamp <= ?))
-- parameters: [('contact_id_1', 0), ('count_1', 3), ('json_extract_1', '$."product_id"'), ('json_extract_2', 'P1'), ('name_1', 'Product Viewed'), ('name_2', 'Order Completed'), ('timestamp_1', datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_3', datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_4', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1)]
