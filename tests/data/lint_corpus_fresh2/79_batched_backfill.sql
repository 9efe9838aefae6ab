UPDATE comments SET rating = 0 WHERE rating IS NULL AND id BETWEEN 1 AND 1000;
