-- PostGIS fixture (issue 13, item 17: application/geo+json), written for
-- mini-baas. Loaded into database `baas_geo` by .ci/fixtures.sh after
-- `CREATE EXTENSION postgis` (as the superuser).

CREATE TABLE region (
  id int PRIMARY KEY,
  name text NOT NULL
);

CREATE TABLE place (
  id int PRIMARY KEY,
  name text NOT NULL,
  region_id int REFERENCES region (id),
  loc geometry(Point, 4326),
  outline geometry,
  area geography
);

-- No geometry: GeoJSON is not available here.
CREATE TABLE visit (
  id int PRIMARY KEY,
  place_id int NOT NULL REFERENCES place (id)
);

INSERT INTO region VALUES (1, 'North'), (2, 'South');
INSERT INTO place VALUES
  (1, 'Harbour', 1, 'SRID=4326;POINT(1.5 2.25)',
   'POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))', 'SRID=4326;POINT(3 4)'),
  (2, 'Tower', 1, 'SRID=4326;POINT(-0.125 51.5)', NULL, NULL),
  (3, 'Nowhere', 2, NULL, NULL, NULL);
INSERT INTO visit VALUES (1, 1), (2, 1), (3, 2);

-- Rows written by the tests (place is read only).
CREATE TABLE pin (
  id int PRIMARY KEY,
  at geometry(Point, 4326)
);

-- A set of rows with geometries from a function: `/rpc` answers
-- application/geo+json too.
CREATE FUNCTION places_of(region int) RETURNS SETOF place
  LANGUAGE sql STABLE AS $$ SELECT * FROM place WHERE region_id = region ORDER BY id $$;
