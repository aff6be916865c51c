-- The pusher counts the pushes still waiting for their device before it
-- pushes more (max_pushes_in_flight), and marks the late ones push_timeout:
-- both read only the jobs pushed and not yet fetched.
CREATE INDEX jobs_push_sent ON jobs(pushed_at) WHERE status = 'push_sent' AND finished_at IS NULL;
