// PostGraphile v5 on the benchmark database, as the harness runs it:
// production mode, no GraphiQL, no watch, no explain.
//
// Two plugins give the workloads their equivalents (bench/README.md):
// postgraphile-plugin-connection-filter, with filters across relations, for
// "articles carrying tag T" (`filter: { articleTagsByArticleId: { some:
// { tagByTagId: { name: { equalTo: T } } } } }`), and @graphile/pg-aggregates
// for the tags ordered by how many articles carry them
// (`orderBy: ARTICLE_TAGS_BY_TAG_ID_COUNT_DESC`). Neither changes the plan of
// a query that does not use them. PgIndexBehaviorsPlugin is off: it lets
// clients filter and order by indexed columns only, and the workloads filter
// on `published_at` as the gateway does (`publishedAt: { isNull: false }`),
// which no index leads with; it changes the schema, not how a query is planned.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";
import { PgAggregatesPreset } from "@graphile/pg-aggregates";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset, PgAggregatesPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.POOL_SIZE ?? 32) },
    }),
  ],
  schema: {
    connectionFilterRelations: true,
  },
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 5678),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
