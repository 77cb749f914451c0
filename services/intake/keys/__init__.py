"""Patients' keys, not SQL: `encryption` wraps each patient's data key with a key-encryption key that never enters
PostgreSQL; `sealing` seals and opens personal data with a data key and derives the BSN lookup and the activity
references. Where the wrapped keys are stored: `store.patients`; their rotation: `key_rotation`."""
