-- primary key on sessions
ALTER TABLE sessions ADD PRIMARY KEY (token);
