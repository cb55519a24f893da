-- Statements slower than a tenant's statement timeout, for
-- baas-server/tests/timeouts.rs (MariaDB side of slow_pg.sql). Loaded as
-- root by .ci/fixtures.sh; `baas` gets its privileges in .ci/services.sh.
DROP DATABASE IF EXISTS baas_slow;
CREATE DATABASE baas_slow;
USE baas_slow;

CREATE TABLE fast (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
INSERT INTO fast VALUES (1, 'one'), (2, 'two');

CREATE VIEW slow AS SELECT 1 AS n FROM fast WHERE SLEEP(20) = 0 AND id = 1;

CREATE TABLE slow_write (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
CREATE TRIGGER slow_write_sleep BEFORE INSERT ON slow_write
  FOR EACH ROW SET NEW.name = IF(SLEEP(20) = 0, NEW.name, NEW.name);

-- A statement within a 300 ms bound (200 ms), of which a read with a
-- count runs two: within the bound each, past it together.
CREATE VIEW nap AS SELECT 1 AS n FROM fast WHERE id = 1 AND SLEEP(0.2) = 0;
