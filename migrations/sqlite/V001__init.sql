-- Initial schema. Timestamps are microseconds since the Unix epoch (UTC); addresses are IPv4
-- addresses as unsigned 32-bit integers. Uniqueness rules of the contract live here, so that they
-- hold under concurrency and across crashes.

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  email         TEXT    NOT NULL UNIQUE,
  password_hash TEXT    NOT NULL,
  created_at    INTEGER NOT NULL
);

CREATE TABLE organizations (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  network     INTEGER NOT NULL CHECK (network BETWEEN 0 AND 4294967295),
  prefix      INTEGER NOT NULL CHECK (prefix BETWEEN 8 AND 30),
  owner_id    INTEGER NOT NULL REFERENCES users (id),
  join_policy TEXT    NOT NULL CHECK (join_policy IN ('open', 'invite')),
  -- Allocation watermark: every host address at or above it that is not allocated is free; free
  -- addresses below it are listed in released_addresses.
  next_host   INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE memberships (
  id              INTEGER PRIMARY KEY,
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  user_id         INTEGER NOT NULL REFERENCES users (id),
  role            TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at       INTEGER NOT NULL,
  UNIQUE (organization_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE allocations (
  id              INTEGER PRIMARY KEY,
  organization_id INTEGER NOT NULL,
  user_id         INTEGER NOT NULL,
  agent_id        TEXT    NOT NULL DEFAULT '',  -- '' is the user's own address
  address         INTEGER NOT NULL,
  allocated_at    INTEGER NOT NULL,
  UNIQUE (organization_id, address),
  UNIQUE (organization_id, user_id, agent_id),
  FOREIGN KEY (organization_id, user_id) REFERENCES memberships (organization_id, user_id)
);
CREATE INDEX allocations_by_user ON allocations (user_id);

CREATE TABLE released_addresses (
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  address         INTEGER NOT NULL,
  PRIMARY KEY (organization_id, address)
) WITHOUT ROWID;

CREATE TABLE invites (
  id              INTEGER PRIMARY KEY,
  organization_id INTEGER NOT NULL REFERENCES organizations (id),
  code_hash       TEXT    NOT NULL UNIQUE,
  created_by      INTEGER NOT NULL REFERENCES users (id),
  max_uses        INTEGER NOT NULL CHECK (max_uses >= 1),
  uses            INTEGER NOT NULL DEFAULT 0 CHECK (uses <= max_uses),
  expires_at      INTEGER NOT NULL,
  created_at      INTEGER NOT NULL
);
CREATE INDEX invites_by_organization ON invites (organization_id);
