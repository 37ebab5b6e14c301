SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = ? AND contact.merged_into IS NULL AND contact.id IN (SELECT event.contact_id + ? AS anon_1 
FROM event 
WHERE event.workspace_id = ? AND event.name = ? AND event.timestamp >= ? AND event.timestamp <= ? GROUP BY event.contact_id + ? 
HAVING coalesce(coalesce(sum(CASE WHEN (json_type(event.properties, ?) IN (__[POSTCOMPILE_json_type_2])) THEN json_extract(event.properties, ?) END), ?) > ?, 0) = 1)
-- parameters: [('coalesce_1', 0), ('coalesce_2', 70), ('contact_id_1', 0), ('json_extract_1', '$."revenue"'), ('json_type_1', '$."revenue"'), ('json_type_2', ['integer', 'real']), ('name_1', 'Order Completed'), ('timestamp_1', datetime.datetime(2026, 2, 8, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1)]
