-- src/migrations/1763030000000-AgentAvatar.ts (typeorm migration:run, logging: ["query"])
START TRANSACTION;
ALTER TABLE "agents" ADD "avatar_url" character varying;
ALTER TABLE "agents" ADD "out_of_office" boolean NOT NULL DEFAULT false;
INSERT INTO "migrations"("timestamp", "name") VALUES (1763030000000, 'AgentAvatar1763030000000');
COMMIT;
