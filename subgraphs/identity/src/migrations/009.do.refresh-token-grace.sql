-- Refresh-token reuse grace (auth/sessions.ts): a page reloaded while its refresh was in flight presents the
-- token the server has just rotated. Within REFRESH_TOKEN_REUSE_GRACE_SECONDS of its use, the immediately
-- previous token of a family answers the same successor instead of ending the session as reuse.
-- replaced_by: the token it was traded for (the chain that says "immediately previous"). No foreign key: the
-- pruning of expired tokens would check every deleted row against an unindexed column; a pruned successor
-- simply is not found.
-- successor_sealed: that successor, AES-256-GCM under a key derived from the traded token's own secret, which
-- is not stored (only its SHA-256 is): only whoever presents the traded token can open it. Cleared once the
-- successor is traded in turn.
ALTER TABLE refresh_tokens ADD COLUMN replaced_by uuid;
ALTER TABLE refresh_tokens ADD COLUMN successor_sealed text;
