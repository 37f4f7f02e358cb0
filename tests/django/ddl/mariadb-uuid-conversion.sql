-- What Open edX's MariaDB-only RunPython migrations program_enrollments 0012_mariadb_uuid_conversion
-- and student 0048_mariadb_uuid_conversion execute (Ulmo, Django 5.2): char(32) -> native uuid.
-- Apply to a database made with the Django 4.2 variant to get an upgraded Ulmo database on MariaDB.
-- MariaDB converts the stored 32-hex strings; values read back as hyphenated lowercase text.
ALTER TABLE program_enrollments_programenrollment MODIFY program_uuid uuid NOT NULL;
ALTER TABLE program_enrollments_programenrollment MODIFY curriculum_uuid uuid NOT NULL;
ALTER TABLE program_enrollments_historicalprogramenrollment MODIFY program_uuid uuid NOT NULL;
ALTER TABLE program_enrollments_historicalprogramenrollment MODIFY curriculum_uuid uuid NOT NULL;
ALTER TABLE student_courseenrollment_history MODIFY history_id uuid NOT NULL;
