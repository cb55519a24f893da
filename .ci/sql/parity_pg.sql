-- PostgREST parity fixture (issue 13), written for mini-baas: functions
-- (scalar, set-returning, table-returning, void, volatile, with defaults,
-- with a table-row argument), a range and a tsvector column, a view over
-- joined tables, a self-referencing table and two schemas with same-named
-- objects. Loaded into database `baas_parity` by .ci/fixtures.sh.

-- Full-text search without a language uses this (PostgREST's behaviour).
ALTER DATABASE baas_parity SET default_text_search_config = 'pg_catalog.english';

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE SCHEMA personal;
CREATE TYPE personal.mood AS ENUM ('calm', 'busy');

CREATE TABLE author (
  id serial PRIMARY KEY,
  name text NOT NULL,
  mentor_id int REFERENCES author (id),
  born date
);

CREATE TABLE book (
  id serial PRIMARY KEY,
  title text NOT NULL,
  author_id int NOT NULL REFERENCES author (id),
  pages int NOT NULL,
  price numeric(8, 2),
  printed int4range,
  summary tsvector,
  feel mood
);

CREATE TABLE counter (
  name text PRIMARY KEY,
  n int NOT NULL DEFAULT 0 CHECK (n > -1000000)
);

-- Written by the tests (book is read only, for the function tests).
CREATE TABLE shelf (
  id int PRIMARY KEY,
  years int4range,
  words tsvector,
  spans int4range[],
  grid int[]
);

CREATE TABLE personal.book (
  id serial PRIMARY KEY,
  title text NOT NULL,
  feel personal.mood
);

-- Two foreign keys to one table, with named constraints (embedding hints),
-- and a decimal wider than a double.
CREATE TABLE review (
  id int PRIMARY KEY,
  reviewer_id int NOT NULL CONSTRAINT review_reviewer_fkey REFERENCES author (id),
  subject_id int NOT NULL CONSTRAINT review_subject_fkey REFERENCES author (id),
  score numeric(30, 10) NOT NULL
);

-- JSON documents (paths and casts in select, order on a path).
CREATE TABLE note (
  id int PRIMARY KEY,
  body jsonb,
  author_id int REFERENCES author (id)
);

-- Dates and times no calendar value holds (item 10): read, written and
-- compared as PostgreSQL's text. Written by the tests only with
-- `tx=rollback`.
CREATE TABLE moment (
  id int PRIMARY KEY,
  d date,
  t time,
  ts timestamp,
  tz timestamptz
);
INSERT INTO moment VALUES
  (1, 'infinity', '24:00:00', '-infinity', 'infinity'),
  (2, '2020-05-06', '10:00:00', '2020-05-06 10:00:00', '2020-05-06 10:00:00+00'),
  (3, '294276-12-31', '00:00:00', '294276-12-31 23:59:59', '294276-12-31 23:59:59+00');

-- Instants whose date depends on the zone (`Prefer: timezone`): the
-- first is still January 14th in Los Angeles.
CREATE TABLE room (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO room VALUES (1, 'hall');
CREATE TABLE visit (
  id int PRIMARY KEY,
  at timestamptz NOT NULL,
  room_id int REFERENCES room (id)
);
INSERT INTO visit VALUES (1, '2024-01-15 02:00:00+00', 1), (2, '2024-01-15 10:00:00+00', 1);
-- What PostgreSQL computes from them follows the session's zone.
CREATE VIEW visit_local AS SELECT id, at::date AS day, to_char(at, 'HH24:MI') AS clock FROM visit;

-- Types without a mapping, compared and sorted in their own type (not as
-- their text): money, an interval, a numeric range, an address, and a
-- time with an offset (read as its text).
CREATE TABLE ledger (
  id int PRIMARY KEY,
  amount money,
  took interval,
  band numrange,
  host inet,
  at timetz,
  peers inet[]
);
INSERT INTO ledger VALUES
  (1, 3.99, '10:00:00', '[1,3]', '10.0.0.2', '10:00:00+02', '{10.0.0.3,10.1.0.0/16}'),
  (2, 24000, '1 day', '[1,10]', '10.0.0.10', '09:00:00+00', NULL),
  (3, 100, '2 hours', '[2,5)', '9.1.1.1', '23:00:00-05', '{}');

-- No primary key (an upsert is a plain insert), every column defaulted.
CREATE TABLE tally (
  label text,
  n int DEFAULT 0
);

CREATE VIEW book_with_author AS
  SELECT b.id, b.title, a.name AS author_name, b.author_id
  FROM book b JOIN author a ON a.id = b.author_id;

-- A view that renames its key and its foreign-key column.
CREATE VIEW book_by AS
  SELECT b.id AS book_id, b.title, b.author_id AS writer
  FROM book b;

INSERT INTO author (name, mentor_id, born) VALUES
  ('Ada', NULL, '1815-12-10'),
  ('Grace', 1, '1906-12-09'),
  ('Edsger', 2, '1930-05-11');
INSERT INTO book (title, author_id, pages, price, printed, summary, feel) VALUES
  ('Notes', 1, 120, 12.50, '[1843,1844)', to_tsvector('english', 'notes on the analytical engine'), 'happy'),
  ('Compilers', 2, 300, 45.00, '[1952,1960)', to_tsvector('english', 'the first compiler and a bug'), 'ok'),
  ('Structured', 3, 220, 30.10, '[1972,1973)', to_tsvector('english', 'structured programming and goto'), 'sad'),
  ('Shortest', 3, 90, NULL, '[1959,1960)', to_tsvector('english', 'shortest paths in graphs'), NULL);
INSERT INTO review (id, reviewer_id, subject_id, score) VALUES
  (1, 2, 1, 12345678901234567890.0123456789),
  (2, 3, 2, -0.5);
INSERT INTO note (id, body, author_id) VALUES
  (1, '{"title": "first", "tags": ["a", "b"], "meta": {"n": 3, "ok": true}}', 1),
  (2, '{"title": "second", "tags": [], "meta": {"n": 1, "ok": false}}', 1),
  (3, '{"title": "third", "meta": {"n": 2}}', 1),
  (4, NULL, 2);
INSERT INTO counter (name) VALUES ('hits');
INSERT INTO personal.book (title, feel) VALUES ('Diary', 'calm');

-- Scalar, immutable, with a default.
CREATE FUNCTION add_them(a int, b int DEFAULT 10) RETURNS int
  LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
-- Scalar text, stable.
-- Variadic functions: the values are the repeated argument.
CREATE FUNCTION plus(VARIADIC v int[]) RETURNS int
  LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(sum(x), 0)::int FROM unnest(v) AS x $$;
CREATE FUNCTION tagged(label text, VARIADIC tags text[]) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT label || ':' || array_to_string(tags, ',') $$;
-- A date argument that may be an infinity (item 10).
CREATE FUNCTION is_forever(d date) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS $$ SELECT d = 'infinity' $$;
-- An instant in and out (Prefer: timezone reads the argument and writes
-- the answer in the caller's zone).
CREATE FUNCTION hour_after(t timestamptz) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE AS $$ SELECT t + interval '1 hour' $$;
CREATE FUNCTION greet(name text) RETURNS text
  LANGUAGE sql STABLE AS $$ SELECT 'hello ' || name $$;
-- A set of scalars.
CREATE FUNCTION series(n int) RETURNS SETOF int
  LANGUAGE sql IMMUTABLE AS 'SELECT generate_series(1, n)';
-- Rows of a table (relations and rules of `book` apply).
CREATE FUNCTION books_longer_than(min_pages int) RETURNS SETOF book
  LANGUAGE sql STABLE AS 'SELECT * FROM book WHERE pages > min_pages';
-- A parameter named like a column of its rows (`?author_id=3&author_id=gt.2`).
CREATE FUNCTION books_by(author_id int) RETURNS SETOF book
  LANGUAGE sql STABLE AS 'SELECT * FROM book WHERE book.author_id = books_by.author_id ORDER BY id';
-- Rows of a table with computed relationships (`books_of`).
CREATE FUNCTION authors_named(prefix text) RETURNS SETOF author
  LANGUAGE sql STABLE AS $$ SELECT * FROM author WHERE name LIKE prefix || '%' ORDER BY id $$;
-- One row of a table (not SETOF).
CREATE FUNCTION first_book() RETURNS book
  LANGUAGE sql STABLE AS 'SELECT * FROM book ORDER BY id LIMIT 1';
-- Declared columns.
CREATE FUNCTION author_stats() RETURNS TABLE (author_id int, books bigint, pages bigint)
  LANGUAGE sql STABLE AS
  'SELECT author_id, count(*), sum(pages) FROM book GROUP BY author_id';
-- A json parameter (for Prefer: params=single-object).
CREATE FUNCTION echo_json(payload json) RETURNS json
  LANGUAGE sql IMMUTABLE AS 'SELECT payload';
-- Volatile: writes, POST only.
CREATE FUNCTION bump(counter_name text, step int DEFAULT 1) RETURNS int
  LANGUAGE sql VOLATILE AS
  'UPDATE counter SET n = n + step WHERE name = counter_name RETURNING n';
-- Volatile, returning rows: every counter, bumped.
CREATE FUNCTION bump_all(step int) RETURNS SETOF counter
  LANGUAGE sql VOLATILE AS 'UPDATE counter SET n = n + step RETURNING *';
-- Volatile (PostgreSQL's default), only reading: GET answers it, its
-- aggregates too, in a read-only transaction.
CREATE FUNCTION counters_read() RETURNS SETOF counter
  LANGUAGE sql AS 'SELECT * FROM counter';
-- Volatile by default, but only reads: `GET` calls it in a read-only
-- transaction (PostgREST's).
CREATE FUNCTION book_count() RETURNS int LANGUAGE sql AS 'SELECT count(*)::int FROM book';
-- Void.
CREATE FUNCTION reset_counter(counter_name text) RETURNS void
  LANGUAGE sql VOLATILE AS 'UPDATE counter SET n = 0 WHERE name = counter_name';
-- A table-row argument: a computed field of `author` in PostgREST.
CREATE FUNCTION full_label(author) RETURNS text
  LANGUAGE sql STABLE AS $$ SELECT $1.name || ' (' || $1.id || ')' $$;
-- Functions of a row returning rows: computed relationships of `author`.
CREATE FUNCTION books_of(author) RETURNS SETOF book
  LANGUAGE sql STABLE AS $$ SELECT * FROM book WHERE author_id = $1.id $$;
-- SETOF with ROWS 1: declared to-one, embedded as an object.
CREATE FUNCTION first_book_of(author) RETURNS SETOF book ROWS 1
  LANGUAGE sql STABLE AS $$ SELECT * FROM book WHERE author_id = $1.id ORDER BY id LIMIT 1 $$;
CREATE FUNCTION longest_book(author) RETURNS book
  LANGUAGE sql STABLE AS $$ SELECT * FROM book WHERE author_id = $1.id ORDER BY pages DESC LIMIT 1 $$;
-- A computed relationship named like a foreign key's relation overrides
-- it (PostgREST's ComputedRelsSpec): `designer.game` is the function.
CREATE TABLE designer (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE game (id int PRIMARY KEY, name text NOT NULL, designer_id int REFERENCES designer (id));
INSERT INTO designer VALUES (1, 'Sid Meier'), (2, 'Hideo Kojima');
INSERT INTO game VALUES (1, 'Civilization I', 1), (2, 'Civilization II', 1), (3, 'Metal Gear Solid', 2);
CREATE FUNCTION game(designer) RETURNS SETOF game
  LANGUAGE sql STABLE AS $$ SELECT * FROM game WHERE designer_id = $1.id AND name LIKE '%II' $$;
-- Named row arguments: a call gives each as a JSON object (PostgREST's
-- `{"a": {"id": 3}}`); as the only argument also a computed relationship,
-- overloaded by the row's table (`author.works_of`, `book.works_of`). Rows
-- in the function's own order.
CREATE FUNCTION works_of(a author) RETURNS SETOF book
  LANGUAGE sql STABLE AS $$ SELECT * FROM book WHERE author_id = a.id ORDER BY pages DESC $$;
CREATE FUNCTION works_of(b book) RETURNS SETOF book
  LANGUAGE sql STABLE AS $$ SELECT * FROM book WHERE author_id = b.author_id AND id <> b.id $$;
CREATE FUNCTION works_longer(a author, min_pages int) RETURNS SETOF book
  LANGUAGE sql STABLE AS $$ SELECT * FROM book WHERE author_id = a.id AND pages > min_pages $$;
-- A computed field of `book`, read inside a computed relationship too.
CREATE FUNCTION shout(book) RETURNS text
  LANGUAGE sql STABLE AS $$ SELECT upper($1.title) $$;
-- A computed relationship is named by its function only: `project`'s
-- `client(*)` is its foreign key's, not also `other_clients`.
CREATE TABLE client (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE project (id int PRIMARY KEY, name text NOT NULL, client_ref int REFERENCES client (id));
INSERT INTO client VALUES (1, 'Acme'), (2, 'Globex');
INSERT INTO project VALUES (1, 'Rocket', 1);
CREATE FUNCTION other_clients(project) RETURNS SETOF client
  LANGUAGE sql STABLE AS $$ SELECT * FROM client WHERE id <> $1.client_ref $$;
-- Two foreign keys to one table: `gig?select=venue(*)` names the table,
-- so both are candidates (PostgREST's 300), though one relation's name is
-- `venue`.
CREATE TABLE venue (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE gig (id int PRIMARY KEY, venue_id int REFERENCES venue (id), backup_venue int REFERENCES venue (id));
INSERT INTO venue VALUES (1, 'Hall'), (2, 'Club');
INSERT INTO gig VALUES (1, 1, 2);
-- Views over the tables of another schema (PostgREST's private-schema
-- pattern): the tables' foreign key holds between the views.
CREATE SCHEMA priv;
CREATE TABLE priv.writer (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE priv.work (id int PRIMARY KEY, title text NOT NULL, writer_id int REFERENCES priv.writer (id));
INSERT INTO priv.writer VALUES (1, 'Ursula'), (2, 'Italo');
INSERT INTO priv.work VALUES (1, 'Earthsea', 1), (2, 'Invisible Cities', 2), (3, 'The Dispossessed', 1);
CREATE VIEW writers AS SELECT id, name FROM priv.writer;
CREATE VIEW works AS SELECT id, title, writer_id AS author FROM priv.work;
-- One-to-one in the tables (the key is the reference): so between views.
CREATE TABLE priv.work_note (work_id int PRIMARY KEY REFERENCES priv.work (id), note text NOT NULL);
INSERT INTO priv.work_note VALUES (1, 'wizards');
CREATE VIEW work_notes AS SELECT work_id, note FROM priv.work_note;
-- An overload taking an unnamed argument (not introspected): a call
-- without arguments is ambiguous for PostgreSQL itself (42725).
CREATE FUNCTION hum() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE FUNCTION hum(int DEFAULT 2) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 2';
-- A single unnamed `json`/`jsonb` parameter takes a POST's whole body; one
-- of another type is the argument `""` (PostgREST's).
CREATE FUNCTION echo_body(jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS 'SELECT $1';
-- Named arguments win; the unnamed one takes what no overload takes.
CREATE FUNCTION echo_body(a int) RETURNS jsonb LANGUAGE sql IMMUTABLE AS 'SELECT to_jsonb(a * 10)';
CREATE FUNCTION hail() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'hello' $$;
CREATE FUNCTION hail(text DEFAULT 'you') RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'hello ' || $1 $$;
-- Overloaded with the same parameter names: no call can choose (PostgREST's 300).
CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 2 * x';
CREATE FUNCTION twice(x text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT x || x';
-- Overloaded with other parameter names: the call's arguments choose.
CREATE FUNCTION area(w int, h int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT w * h';
CREATE FUNCTION area(side int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT side * side';
-- Both take just `a`: a call with only `a` is ambiguous (PGRST203).
CREATE FUNCTION pick(a int, b int DEFAULT 1) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE FUNCTION pick(a int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a';
-- Raises: the error reaches the client as the database's.
-- One OUT parameter: an object of it, as PostgREST answers.
CREATE FUNCTION plus_one(num int, OUT num_plus_one int)
  LANGUAGE sql IMMUTABLE AS 'SELECT num + 1';
-- A composite type that is no table: rows of its attributes.
CREATE TYPE book_summary AS (title text, pages int, price numeric(8, 2));
CREATE FUNCTION summaries(min_pages int) RETURNS SETOF book_summary
  LANGUAGE sql STABLE AS 'SELECT title, pages, price FROM book WHERE pages >= min_pages ORDER BY id';
CREATE FUNCTION summary_of(book_id int) RETURNS book_summary
  LANGUAGE sql STABLE AS 'SELECT title, pages, price FROM book WHERE id = book_id';
-- A domain result: its base type's value.
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE FUNCTION doubled(n int) RETURNS positive
  LANGUAGE sql IMMUTABLE AS 'SELECT (2 * n)::positive';
-- Domain columns of a result's rows: their base types' values too.
CREATE TYPE sized AS (label text, size positive);
CREATE FUNCTION sizes(n int) RETURNS TABLE (label text, size positive)
  LANGUAGE sql IMMUTABLE AS $$ SELECT 'n', n::positive $$;
CREATE FUNCTION sized_of(n int) RETURNS sized
  LANGUAGE sql IMMUTABLE AS $$ SELECT ROW('n', n::positive)::sized $$;
-- char(n) and bit(n) parameters take their argument whole (PostgreSQL
-- ignores a parameter's length).
CREATE FUNCTION char_param(c char(5), cs char(5)[], b bit(3)) RETURNS TABLE (c_out text, cs_out text[], b_out text)
  LANGUAGE sql IMMUTABLE AS 'SELECT c::text, cs::text[], b::text';
-- A PT code without a status, and a failed ASSERT: 500s with their code.
CREATE FUNCTION raise_bad_pt() RETURNS void LANGUAGE plpgsql AS $$
BEGIN RAISE SQLSTATE 'PT40A' USING MESSAGE = 'Wrong'; END $$;
CREATE FUNCTION assert_fails() RETURNS void LANGUAGE plpgsql AS $$
BEGIN ASSERT false, 'the assertion failed'; END $$;
-- PostgREST's request settings, as Supabase's auth.uid()/auth.jwt() read
-- them; bump_for writes, so it is called by POST in a transaction.
CREATE FUNCTION my_claims() RETURNS jsonb
  LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb $$;
CREATE FUNCTION bump_for() RETURNS text
  LANGUAGE sql VOLATILE AS $$
    UPDATE counter SET n = n + 1 WHERE name = 'no-such-counter';
    SELECT current_setting('request.jwt.claims', true)::jsonb ->> 'sub' $$;
-- A table written with the caller's claims: the owner a default reads
-- (as `DEFAULT auth.uid()` does on Supabase), the role a trigger stamps
-- on every write, and a computed field reading them on each read.
CREATE TABLE memo (
  id serial PRIMARY KEY,
  body text NOT NULL,
  owner text DEFAULT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'),
  written_as text
);
CREATE FUNCTION memo_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.written_as := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role';
  -- The answer's status and headers, as a trigger may set them.
  IF NEW.body = 'brewed' THEN
    PERFORM set_config('response.status', '202', true);
    PERFORM set_config('response.headers', '[{"X-Memo": "brewed"}]', true);
  ELSIF NEW.body = 'bad status' THEN
    PERFORM set_config('response.status', 'accepted', true);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER memo_stamp BEFORE INSERT OR UPDATE ON memo
  FOR EACH ROW EXECUTE FUNCTION memo_stamp();
-- Views reading the claims (as `WHERE owner = auth.uid()` does), and one
-- over such a view.
CREATE VIEW my_memo AS SELECT id, body FROM memo
  WHERE owner = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub';
CREATE VIEW my_memo_body AS SELECT body FROM my_memo;
CREATE FUNCTION mine(memo) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT $1.owner = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' $$;
-- The rest of the request as PostgREST shows it, and a function that
-- answers with a status and headers of its own (`response.status`,
-- `response.headers`), or with malformed ones.
CREATE FUNCTION my_request() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'method', current_setting('request.method', true),
    'path', current_setting('request.path', true),
    'custom', nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-custom',
    'session', nullif(current_setting('request.cookies', true), '')::jsonb ->> 'session') $$;
CREATE FUNCTION brew() RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM set_config('response.status', '418', true);
  PERFORM set_config('response.headers',
    '[{"X-Brew": "earl grey"}, {"Cache-Control": "no-store"}]', true);
  RETURN 'short and stout';
END $$;
CREATE FUNCTION bad_status() RETURNS int LANGUAGE plpgsql STABLE AS $$
BEGIN PERFORM set_config('response.status', 'teapot', true); RETURN 1; END $$;
CREATE FUNCTION bad_headers() RETURNS int LANGUAGE plpgsql STABLE AS $$
BEGIN PERFORM set_config('response.headers', '{"X-A": "b"}', true); RETURN 1; END $$;
-- A range result (a type without a mapping: its text).
CREATE FUNCTION span(lo int, hi int) RETURNS int4range
  LANGUAGE sql IMMUTABLE AS 'SELECT int4range(lo, hi)';
-- Errors raised for the caller in PostgREST's forms: a status of its
-- own (`PTxyz`), a whole custom error (`PGRST`), one that is not JSON,
-- and `RAISE EXCEPTION` with a detail and a hint.
CREATE FUNCTION pay() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RAISE sqlstate 'PT402' USING message = 'Payment Required',
    detail = 'Quota exceeded', hint = 'Upgrade your plan';
END $$;
CREATE FUNCTION teapot() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RAISE sqlstate 'PGRST' USING
    message = '{"code":"T418","message":"I am a teapot","details":"short and stout","hint":"try coffee"}',
    detail = '{"status":418,"headers":{"X-Brew":"tea","Content-Length":"1"}}';
END $$;
CREATE FUNCTION garbled() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RAISE sqlstate 'PGRST' USING message = 'not json';
END $$;
CREATE FUNCTION refuse(msg text) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RAISE EXCEPTION '%', msg USING DETAIL = 'det', HINT = 'hnt';
END $$;
CREATE FUNCTION fail_with(msg text) RETURNS int
  LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RAISE EXCEPTION '%', msg USING ERRCODE = 'P0001'; END $$;
-- Row-level security as a Supabase schema writes it, for a tenant that
-- switches to the caller's database role (`database_roles`): the roles
-- anon, authenticated and service_role (BYPASSRLS) are made by
-- .ci/fixtures.sh, which grants them to baas.
CREATE FUNCTION caller_sub() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' $$;
CREATE TABLE diary (
  id serial PRIMARY KEY,
  owner text NOT NULL DEFAULT caller_sub(),
  entry text NOT NULL
);
ALTER TABLE diary ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_entries ON diary USING (owner = caller_sub()) WITH CHECK (owner = caller_sub());
GRANT SELECT, INSERT, UPDATE, DELETE ON diary TO authenticated;
GRANT USAGE ON SEQUENCE diary_id_seq TO authenticated;
GRANT SELECT ON diary TO service_role;
INSERT INTO diary (owner, entry) VALUES ('alice-1', 'a1'), ('alice-1', 'a2'), ('bob-2', 'b1');
-- The claims read by a CHECK constraint, and by the trigger of a table a
-- delete cascades to.
CREATE TABLE signed (
  id serial PRIMARY KEY,
  who text NOT NULL CHECK (who = coalesce(caller_sub(), ''))
);
-- A delete of a shipment cascades to its crates, then to their items,
-- whose trigger reads the claims: two steps, through a table without
-- triggers of its own.
CREATE TABLE shipment (id int PRIMARY KEY);
CREATE TABLE crate (id int PRIMARY KEY, shipment_id int REFERENCES shipment (id) ON DELETE CASCADE);
CREATE TABLE crate_item (
  id serial PRIMARY KEY,
  crate_id int NOT NULL REFERENCES crate (id) ON DELETE CASCADE
);
CREATE FUNCTION refuse_anonymous() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF caller_sub() IS NULL THEN RAISE EXCEPTION 'who is deleting?'; END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER crate_item_who BEFORE DELETE ON crate_item
  FOR EACH ROW EXECUTE FUNCTION refuse_anonymous();

-- bytea: PostgreSQL's hex text both ways, as PostgREST reads and writes it.
CREATE TABLE blob (
  id int PRIMARY KEY,
  bytes bytea
);
INSERT INTO blob VALUES (1, '\x48656c6c6f'), (2, NULL), (3, '\x');
-- A view PostgreSQL writes through (auto-updatable), keyed by its table's
-- key under its own name; the table's trigger stamps the writer's claims,
-- so a write through the view runs with them. Beside it `book_with_author`
-- (a join: not updatable) stays read-only.
CREATE TABLE priv.pen (id serial PRIMARY KEY, name text NOT NULL, stamped text);
CREATE FUNCTION priv.pen_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.stamped := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub';
  RETURN NEW;
END $$;
CREATE TRIGGER pen_stamp BEFORE INSERT OR UPDATE ON priv.pen
  FOR EACH ROW EXECUTE FUNCTION priv.pen_stamp();
CREATE VIEW pens AS SELECT id AS pen_id, name, stamped FROM priv.pen;
INSERT INTO priv.pen (id, name) VALUES (1, 'quill'), (2, 'fountain');
SELECT setval('priv.pen_id_seq', 10);
-- A view over that view, and a table referencing the view's table: the
-- outer view takes the table's key and foreign key through both views.
CREATE TABLE priv.pen_cap (id int PRIMARY KEY, pen_id int REFERENCES priv.pen (id), color text NOT NULL);
INSERT INTO priv.pen_cap VALUES (1, 1, 'black'), (2, 1, 'red'), (3, 2, 'blue');
CREATE VIEW caps AS SELECT id, pen_id, color FROM priv.pen_cap;
CREATE VIEW pens_again AS SELECT pen_id AS id, name FROM pens;
-- Written through by PostgreSQL itself, its WHERE reading another table:
-- its rows are still its one table's, so it keeps the table's key.
CREATE VIEW capped_pens AS SELECT p.id AS pen_id, p.name FROM priv.pen p
  WHERE EXISTS (SELECT 1 FROM priv.pen_cap c WHERE c.pen_id = p.id);
-- A computed relationship to one row (not SETOF) of a venue: PostgreSQL
-- answers a row of nulls where the function finds none, which PostgREST
-- embeds as an object of nulls.
CREATE FUNCTION main_gig(venue) RETURNS gig
  LANGUAGE sql STABLE AS $$ SELECT * FROM gig WHERE venue_id = $1.id ORDER BY id LIMIT 1 $$;
-- Composite columns (and an array of one, a composite inside one): their
-- JSON objects, as PostgREST answers them, and `->`/`->>` into them.
CREATE TYPE geo_point AS (city text, lat numeric(8, 4), lng numeric(8, 4));
CREATE TYPE landmark AS (label text, at geo_point);
CREATE TABLE trip (
  id int PRIMARY KEY,
  name text NOT NULL,
  origin geo_point,
  stops geo_point[],
  sight landmark
);
INSERT INTO trip VALUES
  (1, 'north', ROW('Oslo', 59.9139, 10.7522),
   ARRAY[ROW('Bergen', 60.3913, 5.3221)::geo_point, ROW('Tromso', 69.6492, 18.9553)::geo_point],
   ROW('Fjord', ROW('Geiranger', 62.1008, 7.2059)::geo_point)),
  (2, 'south', ROW('Rome', 41.9028, 12.4964), ARRAY[]::geo_point[], NULL),
  (3, 'nowhere', NULL, NULL, NULL);
