-- A database laid out like a Supabase project: Supabase's internal schemas
-- next to the application's own tables, which reference auth.users.
CREATE SCHEMA auth;
CREATE SCHEMA storage;
CREATE SCHEMA realtime;
CREATE SCHEMA graphql;
CREATE SCHEMA graphql_public;
CREATE SCHEMA extensions;
CREATE SCHEMA vault;
CREATE SCHEMA supabase_migrations;
CREATE SCHEMA app;

CREATE TABLE auth.users (id uuid PRIMARY KEY, email text UNIQUE, created_at timestamptz DEFAULT now());
CREATE TABLE auth.sessions (id uuid PRIMARY KEY, user_id uuid REFERENCES auth.users(id));
CREATE TABLE storage.buckets (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE storage.objects (id uuid PRIMARY KEY, bucket_id text REFERENCES storage.buckets(id), name text);
CREATE TABLE realtime.subscription (id bigserial PRIMARY KEY, entity regclass);
CREATE TABLE vault.secrets (id uuid PRIMARY KEY, secret text);
CREATE TABLE supabase_migrations.schema_migrations (version text PRIMARY KEY);

CREATE TYPE public.post_status AS ENUM ('draft', 'published');
CREATE TABLE public.profiles (
    id uuid PRIMARY KEY REFERENCES auth.users(id),
    username text UNIQUE NOT NULL,
    avatar_url text
);
COMMENT ON TABLE public.profiles IS 'Public profile of each auth user';
CREATE TABLE public.posts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id uuid NOT NULL REFERENCES public.profiles(id),
    title text NOT NULL,
    status public.post_status NOT NULL DEFAULT 'draft',
    tags text[] NOT NULL DEFAULT '{}',
    published_at timestamptz
);
CREATE TABLE app.audit_log (id bigserial PRIMARY KEY, post_id bigint REFERENCES public.posts(id), note text);
