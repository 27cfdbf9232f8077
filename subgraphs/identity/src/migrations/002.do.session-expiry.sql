-- A session may have a hard end: a session started by switchOrganization from an access token alone
-- lives no longer than that access token did, however often it is refreshed (issue 9, item 2).
-- NULL: the session lasts as long as its refresh tokens keep being traded (each one for REFRESH_TOKEN_TTL_SECONDS).
ALTER TABLE sessions ADD COLUMN expires_at timestamptz;
