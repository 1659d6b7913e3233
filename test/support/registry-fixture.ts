// Plain data, importable outside vitest (bench/rehearsal-rate.ts uses it too).
/** The cross-engine fixture: a birth registry with most column kinds, constraints, indexes, a trigger and rows. */
export const REGISTRY_SEED = `
CREATE TABLE birth_registry (
  object_id text PRIMARY KEY,
  born_at timestamptz NOT NULL DEFAULT now(),
  origin text NOT NULL CHECK (origin <> ''),
  weight numeric(10,3),
  ratio double precision,
  attrs jsonb NOT NULL DEFAULT '{}'::jsonb,
  active boolean NOT NULL DEFAULT true,
  payload bytea,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  born_on date,
  note varchar(40) UNIQUE
);
CREATE INDEX birth_registry_origin_idx ON birth_registry (origin, born_at DESC);
CREATE FUNCTION fn_birth_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := coalesce(NEW.note, 'touched'); RETURN NEW; END $$;
CREATE TRIGGER birth_registry_touch BEFORE UPDATE ON birth_registry FOR EACH ROW EXECUTE FUNCTION fn_birth_touch();
CREATE FUNCTION fn_birth_register(p_object_id text, p_origin text) RETURNS void LANGUAGE sql AS $$ INSERT INTO birth_registry (object_id, origin) VALUES (p_object_id, p_origin) $$;
INSERT INTO birth_registry (object_id, born_at, origin, weight, ratio, attrs, active, payload, born_on, note) VALUES
  ('obj-1', '2026-06-12 09:30:00+02', 'legacy', 12.5, 0.1, '{"b": [1, 2], "a": {"x": null}}', true, '\\x00ff', '2026-06-12', 'first — with an em-dash'),
  ('obj-2', '2026-06-12 23:59:59.123456+00', 'legacy', NULL, 1e300, '{}', false, NULL, NULL, NULL),
  ('Obj-3', '1999-12-31 00:00:00-08', 'ünïcode', -0.001, -2.5e-10, '"scalar"', true, '', '1999-12-31', 'tab\there');
`;

export const REGISTRY_SURFACE = { tables: ['birth_registry'], functions: ['fn_birth_register'] };
