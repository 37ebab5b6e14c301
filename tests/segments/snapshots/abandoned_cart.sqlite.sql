SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = ? AND contact.merged_into IS NULL AND contact.id IN (SELECT seq_first.contact_id 
FROM event AS seq_first 
WHERE seq_first.workspace_id = ? AND seq_first.name = ? AND seq_first.timestamp >= ? AND seq_first.timestamp <= ? AND NOT (EXISTS (SELECT seq_then_0.id 
FROM event AS seq_then_0 
WHERE seq_then_0.name = ? AND seq_then_0.contact_id = seq_first.contact_id AND seq_then_0.timestamp > seq_first.timestamp AND seq_then_0.timestamp <= seq_first.timestamp + ?)) AND seq_first.timestamp <= ?)
-- parameters: [('name_1', 'Product Added'), ('name_2', 'Checkout Started'), ('param_1', 86400000000), ('timestamp_1', datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_3', datetime.datetime(2026, 3, 9, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1)]
