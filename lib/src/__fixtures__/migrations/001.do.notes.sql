CREATE TABLE notes (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  body text NOT NULL
);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_tenant ON notes USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
