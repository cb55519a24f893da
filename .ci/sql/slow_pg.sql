-- Statements slower than a tenant's statement timeout, for
-- baas-server/tests/timeouts.rs. Loaded into database `baas_slow` by
-- .ci/fixtures.sh. Each sleeps 20 s: a timeout that did not fire shows as
-- a test taking that long, never as a pass.
CREATE TABLE fast (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO fast VALUES (1, 'one'), (2, 'two');

CREATE VIEW slow AS SELECT 1 AS n FROM pg_sleep(20);

-- A write that sleeps in its trigger: cancelled, it must leave nothing.
CREATE TABLE slow_write (id int PRIMARY KEY, name text NOT NULL);
CREATE FUNCTION slow_write_sleep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_sleep(20);
  RETURN NEW;
END $$;
CREATE TRIGGER slow_write_sleep BEFORE INSERT ON slow_write
  FOR EACH ROW EXECUTE FUNCTION slow_write_sleep();

-- A statement within a 300 ms bound (200 ms), of which a read with a
-- count runs two: within the bound each, past it together.
CREATE VIEW nap AS SELECT 1 AS n FROM pg_sleep(0.2);
