// PostGraphile v5 on the benchmark database, as the harness runs it:
// production mode, no GraphiQL, no watch, no explain.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.POOL_SIZE ?? 32) },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 5678),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
