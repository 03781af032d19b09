-- The server-wide settings: one row (id 1), written the first time an admin
-- saves them; until then the defaults of parley.DefaultSettings apply.
CREATE TABLE settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    widget_title    TEXT    NOT NULL,
    widget_greeting TEXT    NOT NULL DEFAULT '',
    widget_color    TEXT    NOT NULL,
    widget_position TEXT    NOT NULL CHECK (widget_position IN ('left', 'right')),
    widget_pre_chat TEXT    NOT NULL CHECK (widget_pre_chat IN ('off', 'optional', 'required')),
    -- A JSON array of origins.
    allowed_origins TEXT    NOT NULL DEFAULT '[]',
    -- JSON {"timeZone", "days": seven lists of ["HH:MM", "HH:MM"], Sunday first}; NULL: always open.
    business_hours  TEXT,
    offline_message TEXT    NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT    REFERENCES users (id) ON DELETE SET NULL
) STRICT;
