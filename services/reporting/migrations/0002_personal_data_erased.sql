-- Set when the patient's personal data was erased: letters and views show it as erased.
ALTER TABLE episode_overview ADD COLUMN personal_data_erased BOOLEAN NOT NULL DEFAULT false;
