/**
 * GraphiQL as we serve it: every asset inlined from `@graphql-yoga/render-graphiql` (editor,
 * workers, styles, favicon), so it works on a machine without internet; three tabs of example
 * operations (a query, a mutation, a subscription) with a guide to the token; subscriptions over
 * graphql-ws, or over SSE with `/graphql?subscriptions=sse`.
 */
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { GraphiQLOptions } from "graphql-yoga";

/** How to authenticate, at the top of every tab (each GraphiQL tab keeps its own headers). */
const TOKEN_GUIDE = `# Paste your token under "Headers" below
# (each tab keeps its own headers):
#   { "Authorization": "Bearer eyJhbGciOi…" }
# The first \`npm start\` printed an admin token.
# Mint another: npm run -s token -- --scopes admin
# It authenticates queries, mutations and
# subscriptions alike.`;

/** The query tab: who am I, and what runs in my workspace. */
export const EXAMPLE_QUERY = `# Welcome to swarmgraph. Press ▶ (Ctrl-Enter) to run.
${TOKEN_GUIDE}
# Next tabs: a mutation, and a subscription to see it.

query Overview {
  viewer { subject workspaceId scopes expiresAt }
  agentStatusCounts { status count }
  agents(first: 10) {
    totalCount
    edges { node { id name type status health { status } } }
  }
  swarms(first: 10) {
    totalCount
    edges { node { id name status taskSummary { total progress } } }
  }
}
`;

/** The mutation tab: create a task (the subscription tab sees it arrive). */
export const EXAMPLE_MUTATION = `# Creates a task (needs tasks:write; admin has it).
# With the TaskEvents tab running, its task.created
# event arrives there.
${TOKEN_GUIDE}

mutation CreateTask {
  createTask(input: {
    type: "code_generation"
    description: "Write the README quick start"
  }) {
    __typename
    ... on CreateTaskPayload { task { id status description } }
    ... on Error { code message }
  }
}
`;

/** The subscription tab: the workspace's task events, live. */
export const EXAMPLE_SUBSCRIPTION = `# Every task event of your workspace, live.
# Run it, then run CreateTask in its tab.
# To resume after a disconnect without losing
# events, pass the last cursor you saw:
#   taskEvents(after: "42") { … }
${TOKEN_GUIDE}

subscription TaskEvents {
  taskEvents {
    cursor
    type
    at
    status
    task { id description status }
  }
}
`;

/**
 * The GraphiQL options for a request: the example tabs, and the subscription transport
 * (`?subscriptions=sse` switches from graphql-ws to Server-Sent Events).
 */
export function graphiqlOptions(request: Request): GraphiQLOptions {
  const sse = new URL(request.url).searchParams.get("subscriptions")?.toLowerCase() === "sse";
  return {
    title: "swarmgraph",
    defaultQuery: EXAMPLE_QUERY,
    defaultTabs: [{ query: EXAMPLE_QUERY }, { query: EXAMPLE_MUTATION }, { query: EXAMPLE_SUBSCRIPTION }],
    defaultEditorToolsVisibility: "headers",
    // Yoga would keep the Headers tab (the token) in localStorage; like the dashboard, keep it
    // for the page's life only.
    shouldPersistHeaders: false,
    subscriptionsProtocol: sse ? "SSE" : "WS",
  };
}

/**
 * Runs before GraphiQL boots. Yoga's GraphiQL restores its saved tabs, but unless the URL names a
 * query (as it does after a reload: GraphiQL keeps the query in `?query=`) it also adds an empty
 * "<untitled>" tab and makes it active, so a second visit opens on a blank editor where ▶ answers
 * "Syntax Error: Unexpected <EOF>". Naming the saved active tab's query makes every visit behave
 * like a reload: the tabs come back as they were left.
 */
const RESUME_SAVED_TAB = `<script>(() => {
  try {
    const url = new URL(location.href);
    if (url.searchParams.has("query")) return;
    const saved = JSON.parse(localStorage.getItem("graphiql:tabState") || "null");
    const query = saved && saved.tabs && saved.tabs[saved.activeTabIndex] && saved.tabs[saved.activeTabIndex].query;
    if (!query) return;
    url.searchParams.set("query", query);
    history.replaceState(null, "", url);
  } catch {}
})();</script>`;

const rendered = new Map<string, string>();

/**
 * Renders the GraphiQL page with every asset inlined (about 9 MB; made once per set of options,
 * not per request).
 */
export function renderOfflineGraphiQL(options: GraphiQLOptions): string {
  const key = JSON.stringify(options);
  let html = rendered.get(key);
  if (html === undefined) {
    html = renderGraphiQL(options).replace(/<body[^>]*>/, (body) => `${body}${RESUME_SAVED_TAB}`);
    rendered.set(key, html);
  }
  return html;
}
