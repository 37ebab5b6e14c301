SELECT contact.id 
FROM contact 
WHERE contact.workspace_id = %(workspace_id_1)s::BIGINT AND contact.merged_into IS NULL AND (contact.id IN (SELECT event.contact_id 
FROM event 
WHERE event.workspace_id = %(workspace_id_2)s::BIGINT AND event.name = %(name_1)s::VARCHAR AND event.timestamp >= %(timestamp_1)s::TIMESTAMP WITH TIME ZONE AND event.timestamp <= %(timestamp_2)s::TIMESTAMP WITH TIME ZONE) OR (EXISTS (SELECT event.id 
FROM event 
WHERE event.contact_id = contact.id AND event.timestamp >= %(timestamp_3)s::TIMESTAMP WITH TIME ZONE AND event.timestamp <= %(timestamp_4)s::TIMESTAMP WITH TIME ZONE))) AND (contact.id NOT IN (SELECT segment_membership.contact_id 
FROM segment_membership 
WHERE segment_membership.segment_id = %(segment_id_1)s::BIGINT)) AND (contact.id NOT IN (SELECT contact_tag.contact_id 
FROM contact_tag JOIN tag ON tag.id = contact_tag.tag_id 
WHERE tag.name = %(name_2)s::VARCHAR AND tag.workspace_id = %(workspace_id_3)s::BIGINT)) AND ((contact.id %% %(id_1)s::BIGINT) * %(param_1)s::BIGINT + %(param_2)s::BIGINT) %% %(param_3)s::BIGINT < %(param_4)s
-- parameters: [('id_1', 1000003), ('name_1', 'Email Opened'), ('name_2', 'vip'), ('param_1', 7919), ('param_2', 798548), ('param_3', 10000), ('param_4', 1000.0), ('segment_id_1', 1), ('timestamp_1', datetime.datetime(2026, 2, 24, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_2', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_3', datetime.datetime(2026, 2, 8, 12, 0, tzinfo=datetime.timezone.utc)), ('timestamp_4', datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)), ('workspace_id_1', 1), ('workspace_id_2', 1), ('workspace_id_3', 1)]
