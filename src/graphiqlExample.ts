/** The operation GraphiQL opens with: a tour of the API that works on a fresh workspace. */
export const EXAMPLE_OPERATION = `# Welcome to swarmgraph. Add your token under Headers:
#   { "Authorization": "Bearer <token printed at first start, or from npm run token>" }

query Overview {
  viewer { subject workspaceId scopes expiresAt }
  agentStatusCounts { status count }
  agents(first: 10) {
    totalCount
    edges { node { id name type status capabilities health { status secondsSinceLastSeen } } }
  }
  swarms(first: 10) {
    totalCount
    edges { node { id name topology status maxAgents agentSummary { total } } }
  }
}

mutation RegisterAgent {
  registerAgent(input: { name: "Coder-Alpha", type: "coder", capabilities: ["typescript", "testing"] }) {
    __typename
    ... on RegisterAgentPayload { agent { id name status } }
    ... on Error { code message }
  }
}
`;
