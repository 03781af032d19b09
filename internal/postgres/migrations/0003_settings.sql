-- The server-wide settings: one row (id 1), written the first time an admin
-- saves them; until then the defaults of parley.DefaultSettings apply.
CREATE TABLE settings (
    id              integer     PRIMARY KEY CHECK (id = 1),
    widget_title    text        NOT NULL,
    widget_greeting text        NOT NULL DEFAULT '',
    widget_color    text        NOT NULL,
    widget_position text        NOT NULL CHECK (widget_position IN ('left', 'right')),
    widget_pre_chat text        NOT NULL CHECK (widget_pre_chat IN ('off', 'optional', 'required')),
    -- A JSON array of origins.
    allowed_origins jsonb       NOT NULL DEFAULT '[]',
    -- {"timeZone", "days": seven lists of ["HH:MM", "HH:MM"], Sunday first}; NULL: always open.
    business_hours  jsonb,
    offline_message text        NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL,
    updated_by      uuid        REFERENCES users (id) ON DELETE SET NULL
);
