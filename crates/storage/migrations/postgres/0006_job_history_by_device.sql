-- A device's job history (GET /devices/{id}/jobs, the console's device
-- filter) reads finished jobs too, which the partial head index skips.
CREATE INDEX jobs_device ON jobs(device_id, id);
