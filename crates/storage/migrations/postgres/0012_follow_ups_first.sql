-- The pusher claims the managed lists that verify installs before the rest
-- of the queue (storage/src/jobs.rs, FOLLOW_UPS): this index holds only
-- those jobs, so finding the due ones does not walk every queued install.
-- Its condition must stay the same text as the query's.
CREATE INDEX jobs_follow_ups ON jobs(run_at, id)
    WHERE finished_at IS NULL AND request_type IN ('ManagedApplicationList', 'ManagedMediaList');
