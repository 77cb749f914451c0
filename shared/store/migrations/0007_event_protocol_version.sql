-- A decision records the network protocol it was made under (its version, beside the guideline version): the
-- pathway's decisions from the day a network protocol takes effect; NULL for every other event.
ALTER TABLE events ADD COLUMN protocol_version TEXT;
