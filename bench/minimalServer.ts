/**
 * The delivery scenario's peer, run as a process of its own (bench/serverProcess.ts): a minimal
 * graphql-ws server — a graphql-js schema, an in-process emitter, no database, no auth — that
 * pushes `ticks(key)` to the subscribers of a key when the bench POSTs /tick?key=… (several keys
 * in one request: /tick?key=a&key=b). What it costs
 * is the cost of the transport itself, the floor swarmgraph's delivery is compared with.
 *
 * Endpoints: /graphql (graphql-ws), POST /tick?key=K[&key=K2…], GET /subscribers (open subscriptions),
 * GET /ready. The port is PORT.
 */
import { EventEmitter, on } from "node:events";
import http from "node:http";
import { GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";

const emitter = new EventEmitter();
emitter.setMaxListeners(0);
let subscribers = 0;

const Tick = new GraphQLObjectType({ name: "Tick", fields: { key: { type: GraphQLString }, at: { type: GraphQLString } } });
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString, resolve: () => "ok" } } }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      ticks: {
        type: Tick,
        args: { key: { type: new GraphQLNonNull(GraphQLString) } },
        subscribe: async function* (_root, { key }: { key: string }) {
          subscribers++;
          try {
            for await (const [at] of on(emitter, key)) yield { ticks: { key, at } };
          } finally {
            subscribers--;
          }
        },
      },
    },
  }),
});

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (req.method === "POST" && url.pathname === "/tick") {
    const at = new Date().toISOString();
    for (const key of url.searchParams.getAll("key")) emitter.emit(key, at);
    res.writeHead(204).end();
  } else if (url.pathname === "/subscribers") {
    res.writeHead(200, { "content-type": "text/plain" }).end(String(subscribers));
  } else if (url.pathname === "/ready") {
    res.writeHead(200).end("ok");
  } else {
    res.writeHead(404).end();
  }
});
useServer({ schema }, new WebSocketServer({ server, path: "/graphql" }));
server.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
