-- PostgREST parity fixture for MariaDB/MySQL (issue 13, item 9): stored
-- functions served at /rpc. Loaded into database `baas_parity` by
-- .ci/fixtures.sh (as root; the `baas` user gets its privileges in
-- .ci/services.sh).
DROP DATABASE IF EXISTS baas_parity;
CREATE DATABASE baas_parity;
USE baas_parity;

CREATE TABLE book (
  id INT PRIMARY KEY,
  title VARCHAR(100) NOT NULL,
  price DECIMAL(8, 2)
);
CREATE TABLE counter (
  name VARCHAR(20) PRIMARY KEY,
  n INT NOT NULL DEFAULT 0 CHECK (n > -1000000)
);
-- Dates and times no calendar value holds (issue 13, item 10): a
-- zero-in-date and durations, read, written and compared as their text.
CREATE TABLE moment (
  id INT PRIMARY KEY,
  d DATE,
  t TIME,
  ts DATETIME
);
-- An updatable view (MySQL writes through it), keyed by its table's key
-- under its own name, and a view of a table referencing it: their
-- relation is the tables' foreign key.
CREATE TABLE pen (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL, secret VARCHAR(40));
CREATE VIEW pens AS SELECT p.id AS pen_id, p.name FROM pen p;
INSERT INTO pen (id, name) VALUES (1, 'quill'), (2, 'fountain');
CREATE TABLE pen_cap (id INT PRIMARY KEY, pen_id INT REFERENCES pen (id), color VARCHAR(20) NOT NULL);
INSERT INTO pen_cap VALUES (1, 1, 'black'), (2, 1, 'red'), (3, 2, 'blue');
CREATE VIEW caps AS SELECT id, pen_id, color FROM pen_cap;
-- A join MySQL writes through, showing one table's columns only: its rows
-- repeat a pen, so it has no key. A grouped view is read-only.
CREATE VIEW capped_pens AS SELECT p.id, p.name FROM pen p JOIN pen_cap c ON c.pen_id = p.id;
CREATE VIEW cap_counts AS SELECT pen_id, count(*) AS n FROM pen_cap GROUP BY pen_id;
INSERT INTO book VALUES (1, 'Notes', 12.50), (2, 'Compilers', 45.00);
INSERT INTO moment VALUES
  (1, '2020-00-15', '100:00:00', '2020-01-00 10:00:00'),
  (2, '2020-05-06', '-01:30:00', '2020-05-06 10:00:00');
INSERT INTO counter (name) VALUES ('hits');
-- Instants (`TIMESTAMP`), written in UTC: their date in a caller's zone
-- is found from the zone's offsets (`Prefer: timezone`).
CREATE TABLE visit (id INT PRIMARY KEY, at TIMESTAMP NULL, pen_id INT REFERENCES pen (id));
SET time_zone = '+00:00';
INSERT INTO visit VALUES (1, '2024-01-15 02:00:00', 1), (2, '2024-01-15 10:00:00', 1);
-- A non-transactional table, and an InnoDB one whose trigger writes to
-- it: MariaDB's ANALYZE of a write to either would keep what it wrote.
CREATE TABLE jotting (id INT PRIMARY KEY, body VARCHAR(40)) ENGINE=MyISAM;
INSERT INTO jotting VALUES (1, 'kept');
CREATE TABLE audited (id INT PRIMARY KEY, body VARCHAR(40)) ENGINE=InnoDB;
INSERT INTO audited VALUES (1, 'kept');
CREATE TRIGGER audited_log AFTER UPDATE ON audited FOR EACH ROW
  INSERT INTO jotting VALUES (NEW.id + 100, NEW.body);

DELIMITER //
-- Immutable: GET and POST.
CREATE FUNCTION add_them(a INT, b INT) RETURNS INT DETERMINISTIC NO SQL
  RETURN a + b //
CREATE FUNCTION greet(who VARCHAR(100)) RETURNS VARCHAR(120) DETERMINISTIC NO SQL
  RETURN CONCAT('hello ', who) //
-- Stable: reads.
CREATE FUNCTION total_price() RETURNS DECIMAL(10, 2) READS SQL DATA
  RETURN (SELECT SUM(price) FROM book) //
-- Volatile: writes, POST only.
CREATE FUNCTION bump(step INT) RETURNS INT MODIFIES SQL DATA
BEGIN
  UPDATE counter SET n = n + step WHERE name = 'hits';
  RETURN (SELECT n FROM counter WHERE name = 'hits');
END //
-- Raises with a status of its own (PostgREST's `PTxyz`).
CREATE FUNCTION pay() RETURNS INT DETERMINISTIC NO SQL
BEGIN
  SIGNAL SQLSTATE 'PT402' SET MESSAGE_TEXT = 'Payment Required';
  RETURN 0;
END //
-- Raises: the message reaches the client.
CREATE FUNCTION fail_with(msg VARCHAR(100)) RETURNS INT DETERMINISTIC NO SQL
BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = msg;
  RETURN 0;
END //
-- Procedures: the rows of the first result set a CALL answers.
CREATE PROCEDURE list_books() READS SQL DATA
  SELECT * FROM book ORDER BY id //
CREATE PROCEDURE books_over(min_price DECIMAL(8, 2)) READS SQL DATA
  SELECT id, title, price, price > 20 AS dear, CAST(NULL AS CHAR) AS note
  FROM book WHERE price > min_price ORDER BY id //
-- Volatile, answers no result set: POST only, [].
CREATE PROCEDURE set_hits(to_n INT) MODIFIES SQL DATA
  UPDATE counter SET n = to_n WHERE name = 'hits' //
-- Writes, then fails: the write is rolled back.
CREATE PROCEDURE bump_then_fail() MODIFIES SQL DATA
BEGIN
  UPDATE counter SET n = n + 100 WHERE name = 'hits';
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'changed my mind';
END //
-- Writes, then answers rows: under `max-affected` past its rows, nothing kept.
CREATE PROCEDURE bump_and_list() MODIFIES SQL DATA
BEGIN
  UPDATE counter SET n = n + 1000 WHERE name = 'hits';
  SELECT id FROM book ORDER BY id;
END //
-- Two result sets: the first is answered.
CREATE PROCEDURE two_sets() DETERMINISTIC NO SQL
BEGIN
  SELECT 1 AS a;
  SELECT 2 AS b;
END //
-- OUT parameters: the answer is one object of their values.
CREATE PROCEDURE plus_one(IN a INT, OUT b INT) DETERMINISTIC NO SQL
  SET b = a + 1 //
CREATE PROCEDURE price_range(OUT lo DECIMAL(8, 2), IN above DECIMAL(8, 2), OUT hi DECIMAL(8, 2))
  READS SQL DATA
  SELECT MIN(price), MAX(price) INTO lo, hi FROM book WHERE price > above //
-- INOUT: an argument and a value of the answer.
CREATE PROCEDURE twice(INOUT x INT) DETERMINISTIC NO SQL
  SET x = x * 2 //
DELIMITER ;
