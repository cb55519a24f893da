CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name TEXT,
  is_admin BOOLEAN NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE sqlite_sequence(name,seq);
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name VARCHAR(80) NOT NULL,
  archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
  settings JSON,
  budget NUMERIC(12, 2),
  UNIQUE (owner_id, name)
);
CREATE TABLE tags (
  name TEXT PRIMARY KEY,
  color TEXT NOT NULL DEFAULT '#888888'
) WITHOUT ROWID;
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL,
  parent_id INTEGER,
  title TEXT NOT NULL,
  body TEXT,
  priority INTEGER NOT NULL DEFAULT 2,
  due_on DATE,
  estimate_hours REAL,
  done_at TIMESTAMP,
  title_lower TEXT GENERATED ALWAYS AS (lower(title)) VIRTUAL,
  FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE,
  FOREIGN KEY (parent_id) REFERENCES tasks(id)
);
CREATE TABLE task_tags (
  task_id INTEGER NOT NULL REFERENCES tasks ON DELETE CASCADE,
  tag TEXT NOT NULL REFERENCES tags(name) ON UPDATE CASCADE,
  PRIMARY KEY (task_id, tag)
) WITHOUT ROWID;
CREATE TABLE "task attachments" (
  "task_id" INTEGER NOT NULL,
  "seq" INTEGER NOT NULL,
  "fileName" TEXT NOT NULL,
  "mimeType" TEXT,
  "content" BLOB,
  "sha256" BLOB NOT NULL,
  PRIMARY KEY ("task_id", "seq"),
  FOREIGN KEY ("task_id") REFERENCES "tasks" ("id") ON DELETE CASCADE
);
CREATE TABLE time_entries (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL CONSTRAINT fk_time_task REFERENCES tasks (id),
  user_id INTEGER NOT NULL CONSTRAINT fk_time_user REFERENCES users (id),
  started_at TEXT NOT NULL,
  minutes INTEGER NOT NULL CHECK (minutes > 0),
  note TEXT DEFAULT ''
);
CREATE INDEX tasks_project_due ON tasks (project_id, due_on);
CREATE INDEX tasks_open ON tasks (project_id) WHERE done_at IS NULL;
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
CREATE UNIQUE INDEX attachments_sha ON "task attachments" ("sha256");
CREATE VIEW open_tasks AS
  SELECT t.id, t.title, p.name AS project, t.due_on AS due,
         julianday(t.due_on) - julianday('now') AS days_left
  FROM tasks t JOIN projects p ON p.id = t.project_id
  WHERE t.done_at IS NULL
/* open_tasks(id,title,project,due,days_left) */;
CREATE TRIGGER tasks_touch_project AFTER UPDATE OF done_at ON tasks
WHEN NEW.done_at IS NOT NULL
BEGIN
  UPDATE projects SET archived = CASE WHEN archived = 1 THEN 1 ELSE 0 END WHERE id = NEW.project_id;
  SELECT 1;
END;
CREATE VIRTUAL TABLE tasks_fts USING fts5(title, body, content='tasks', content_rowid='id');
CREATE TABLE IF NOT EXISTS 'tasks_fts_data'(id INTEGER PRIMARY KEY, block BLOB);
CREATE TABLE IF NOT EXISTS 'tasks_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS 'tasks_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
CREATE TABLE IF NOT EXISTS 'tasks_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE sqlite_stat1(tbl,idx,stat);
