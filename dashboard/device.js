// The device verification page (/device): look up a user code, approve or deny it, with the
// same token the dashboard uses (sessionStorage) or one pasted here. Talks to /graphql only.
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "swarmgraph.token";

const FIELDS = "userCode clientId requestedScopes status workspaceId grantedScopes decidedBy expiresAt";
const LOOKUP = `query DeviceRequest($userCode: String!) { deviceAuthorizationRequest(userCode: $userCode) { __typename ... on DeviceAuthorizationRequest { ${FIELDS} } ... on Error { code message } } }`;
const DECIDE = (name) =>
  `mutation Decide($input: ${name[0].toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { __typename ... on ${name[0].toUpperCase()}${name.slice(1)}Payload { request { ${FIELDS} } } ... on Error { code message } } }`;

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function graphql(query, variables) {
  const token = $("token").value.trim() || sessionStorage.getItem(TOKEN_KEY) || "";
  if (!token) throw new Error("Paste an admin token first (or sign in to the dashboard in this tab).");
  const response = await fetch("/graphql", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data;
}

async function lookUp() {
  showError("");
  $("result").textContent = "";
  try {
    const answer = (await graphql(LOOKUP, { userCode: $("user-code").value })).deviceAuthorizationRequest;
    if (answer.__typename !== "DeviceAuthorizationRequest") throw new Error(`${answer.message} (check the code; it may have expired)`);
    $("client").textContent = answer.clientId;
    $("scopes").textContent = answer.requestedScopes.length ? answer.requestedScopes.join(", ") : "whatever you grant";
    $("expires").textContent = new Date(answer.expiresAt).toLocaleString();
    $("request").hidden = false;
  } catch (error) {
    $("request").hidden = true;
    showError(error.message);
  }
}

async function decide(name) {
  showError("");
  try {
    const answer = (await graphql(DECIDE(name), { input: { userCode: $("user-code").value } }))[name];
    if (!answer.request) throw new Error(answer.message);
    $("request").hidden = true;
    $("result").textContent =
      answer.request.status === "APPROVED"
        ? `Approved: ${answer.request.clientId} gets a token for workspace ${answer.request.workspaceId} with ${answer.request.grantedScopes.join(", ")}. You can close this page.`
        : `Denied: ${answer.request.clientId} gets no token.`;
  } catch (error) {
    showError(error.message);
  }
}

$("user-code").value = new URLSearchParams(location.search).get("user_code") ?? "";
$("lookup").addEventListener("click", lookUp);
$("approve").addEventListener("click", () => decide("approveDeviceAuthorization"));
$("deny").addEventListener("click", () => decide("denyDeviceAuthorization"));
