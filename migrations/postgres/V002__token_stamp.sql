-- Tokens name their user for good: each user has a random token stamp that every token carries
-- (claim "stm"). Replacing it revokes the user's tokens (POST /logout); a user created after a
-- database reset gets another one, so an old token of a reused id is refused.

ALTER TABLE users ADD COLUMN token_stamp TEXT NOT NULL DEFAULT '';
UPDATE users SET token_stamp = replace(gen_random_uuid()::text, '-', '');
