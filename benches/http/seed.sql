-- Seed for the HTTP load benchmark (benches/http/run.sh), database `bench`.
-- Idempotent: drops and recreates both tables. Deterministic: every value is
-- a function of the row number, so every run reads the same data.
--   author: 1,000 rows; book: 100,000 rows, 100 per author, spread so that a
--   page of 20 consecutive books has 20 different authors.
DROP TABLE IF EXISTS book;
DROP TABLE IF EXISTS author;

CREATE TABLE author (
    id      serial PRIMARY KEY,
    name    text NOT NULL,
    country text
);

CREATE TABLE book (
    id        serial PRIMARY KEY,
    title     text NOT NULL,
    author_id int NOT NULL REFERENCES author,
    published date,
    price     numeric(8,2),
    pages     int
);

INSERT INTO author (name, country)
SELECT 'Author ' || i,
       CASE WHEN i % 10 = 0 THEN NULL
            ELSE (ARRAY['US','GB','FR','DE','PL','IT','JP','BR','IN'])[1 + i % 9] END
FROM generate_series(1, 1000) AS i;

INSERT INTO book (title, author_id, published, price, pages)
SELECT 'Book number ' || i,
       1 + (i * 7) % 1000,
       CASE WHEN i % 50 = 0 THEN NULL ELSE date '1950-01-01' + (i * 37) % 27000 END,
       CASE WHEN i % 40 = 0 THEN NULL ELSE round(((i * 131) % 9000) / 100.0 + 1, 2) END,
       40 + (i * 13) % 960
FROM generate_series(1, 100000) AS i;

CREATE INDEX book_author_id_idx ON book (author_id);

VACUUM ANALYZE author;
VACUUM ANALYZE book;
