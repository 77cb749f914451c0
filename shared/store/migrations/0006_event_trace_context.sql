-- Each event keeps the W3C trace context of the work that appended it (set while traces are on, else NULL): the
-- relay sends it along as the CloudEvents `traceparent` extension, so one referral is one trace in every service.
ALTER TABLE events ADD COLUMN traceparent TEXT;
