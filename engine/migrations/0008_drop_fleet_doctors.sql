-- fleet.doctors (0001) was the roster before doctor profiles (0006, auth.doctor_profiles) took its place; nothing reads
-- or writes it. The schema `fleet` stays: it names the live fleet's domain for tables to come.
DROP TABLE IF EXISTS fleet.doctors;
