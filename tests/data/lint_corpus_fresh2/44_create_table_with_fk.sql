CREATE TABLE post_tags (
    post_id integer NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag text NOT NULL,
    PRIMARY KEY (post_id, tag)
);
