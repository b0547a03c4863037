// Evaluate a batch of AWS requests with @cloud-copilot/iam-simulate (npm, AGPL-3.0, test time only).
// Usage: node iam_simulate.cjs < batch.json > decisions.jsonl
// batch: {"policies": {"<id>": <policy document>, ...},
//         "cases": [{"id", "principal", "action", "resource", "accountId", "context",
//                    "identityPolicies": ["<id>", ...], "resourcePolicy": "<id>" | null,
//                    "permissionBoundaries": ["<id>", ...], "documentedKeys": false}]}
// (policies are sent once and referenced by id: a matrix reuses each a few hundred times).
// One output line per case: {"id", "decision": "Allowed" | "ExplicitlyDenied" |
// "ImplicitlyDenied" | "Error", "grants": [...], "denials": [...], "errors": "...",
// "ignoredContextKeys": [...]}; grants and denials are iam-simulate's getGrantReasons /
// getDenialReasons (policy type, policy name, Sid, 1-based statement index); "resource" is the
// resource evaluated ("*" for an action IAM authorizes on "*" only, whatever was asked).
// Exit 2 when the engine is missing or the batch is not valid JSON. The package is found under
// build/iam-simulate (the root `make iam-simulate` target) unless IAM_SIMULATE_MODULE names
// the directory whose node_modules holds it.
"use strict";
const path = require("node:path");

const moduleRoot =
  process.env.IAM_SIMULATE_MODULE || path.join(__dirname, "..", "..", "build", "iam-simulate");

// IAM_SIMULATE_PLAIN=1: the package's own path, without this runner's two shortcuts below.
const PLAIN = process.env.IAM_SIMULATE_PLAIN === "1";

// The directory of iam-simulate's compiled package (its modules are patched or reached there).
function simulateDir() {
  return path.dirname(require.resolve("@cloud-copilot/iam-simulate", { paths: [moduleRoot] }));
}

// iam-policy's entry file as iam-simulate resolves it (the copy whose functions the engine calls).
function iamPolicyMain() {
  return require.resolve("@cloud-copilot/iam-policy", { paths: [simulateDir()] });
}

function load() {
  try {
    return require(require.resolve("@cloud-copilot/iam-simulate", { paths: [moduleRoot] }));
  } catch (err) {
    console.error(`error: iam-simulate: not installed under ${moduleRoot} (run \`make iam-simulate\`)`);
    return null;
  }
}

// "documentedKeys": the request's condition keys are documented by AWS outside the service
// authorization reference (an OIDC token's <issuer>:sub and :aud), which runSimulation would
// drop as unknown for the action. Such a case goes to the engine's core authorize() with
// the context as given (what the package's runUnsafeSimulation does, minus its missing
// resource policy name).
function coreAuthorize(c, policies) {
  const dir = simulateDir();
  const { loadPolicy } = require(iamPolicyMain());
  const core = require(path.join(dir, "core_engine", "CoreSimulatorEngine.js"));
  const { RequestContextImpl } = require(path.join(dir, "requestContext.js"));
  const { AwsRequestImpl } = require(path.join(dir, "request", "request.js"));
  const { DiscoveryContextKeyConstraints } = require(
    path.join(dir, "context_keys", "discoveryContextKeyConstraints.js")
  );
  const request = new AwsRequestImpl(
    c.principal,
    { resource: c.resource, accountId: c.accountId },
    c.action,
    new RequestContextImpl(c.context || {})
  );
  const load = (ids, kind) => named(policies, ids, kind).map((p) => loadPolicy(p.policy, { name: p.name }));
  return core.authorize({
    request,
    sessionPolicy: undefined,
    identityPolicies: load(c.identityPolicies, "identity policy"),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: c.resourcePolicy
      ? loadPolicy(policies[c.resourcePolicy], { name: c.resourcePolicy })
      : undefined,
    permissionBoundaries: c.permissionBoundaries?.length
      ? load(c.permissionBoundaries, "permissions boundary")
      : undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: {
      simulationMode: "Strict",
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]),
    },
    serviceSettings: { s3: {} },
  });
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function named(policies, ids, kind) {
  return (ids || []).map((id) => {
    if (!(id in policies)) throw new Error(`${kind} ${id}: not in "policies"`);
    return { name: id, policy: policies[id] };
  });
}

// Each policy is validated once per kind, with the package's own validator, and handed to
// runSimulation as a ValidatedPolicy (iam-policy's createValidatedPolicy: the engine reuses its
// errors instead of validating the same document again for each of a few hundred requests).
function validatedOnce(policies) {
  const iamPolicy = require(iamPolicyMain());
  const validators = {
    "identity policy": iamPolicy.validateIdentityPolicy,
    "permissions boundary": iamPolicy.validateIdentityPolicy,
    "resource policy": iamPolicy.validateResourcePolicy,
  };
  const done = new Map();
  return (id, kind) => {
    if (!(id in policies)) throw new Error(`${kind} ${id}: not in "policies"`);
    const key = `${kind}\u0000${id}`;
    if (!done.has(key)) done.set(key, iamPolicy.createValidatedPolicy(policies[id], validators[kind]));
    return done.get(key);
  };
}

async function evaluate(engine, policies, c, validated) {
  if (c.documentedKeys) {
    const analysis = coreAuthorize(c, policies);
    return {
      id: c.id,
      resource: c.resource,
      decision: analysis.result,
      grants: engine.getGrantReasons(analysis),
      denials: engine.getDenialReasons(analysis),
      ignoredContextKeys: [],
    };
  }
  // An action without resource-level permissions is authorized on "*" only.
  const [service, name] = c.action.split(":");
  const resource = (await engine.isWildcardOnlyAction(service, name)) ? "*" : c.resource;
  const simulation = {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource, accountId: c.accountId },
      contextVariables: c.context || {},
    },
    identityPolicies: (c.identityPolicies || []).map((id) => ({
      name: id,
      policy: validated(id, "identity policy"),
    })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    permissionBoundaryPolicies: c.permissionBoundaries?.length
      ? c.permissionBoundaries.map((id) => ({ name: id, policy: validated(id, "permissions boundary") }))
      : undefined,
  };
  if (c.resourcePolicy) simulation.resourcePolicy = validated(c.resourcePolicy, "resource policy");
  const response = await engine.runSimulation(simulation, {});
  if (response.resultType === "error") {
    return { id: c.id, decision: "Error", errors: JSON.stringify(response.errors) };
  }
  const results = response.resultType === "single" ? [response.result] : response.results;
  const grants = [];
  const denials = [];
  const ignored = new Set();
  for (const result of results) {
    if (!result.analysis) continue;
    grants.push(...engine.getGrantReasons(result.analysis));
    denials.push(...engine.getDenialReasons(result.analysis));
    for (const key of result.ignoredContextKeys || []) ignored.add(key);
  }
  return {
    id: c.id,
    resource,
    decision: response.overallResult,
    grants,
    denials,
    ignoredContextKeys: [...ignored],
  };
}

// A matrix asks about the same resource for many roles: the resource type of an ARN is
// looked up once per (service, action, resource), not once per request.
function memoizeResourceTypes() {
  const dir = simulateDir();
  const module = require(path.join(dir, "simulation_engine", "resourceTypes.js"));
  const lookup = module.getResourceTypesForAction;
  const seen = new Map();
  module.getResourceTypesForAction = (service, action, resource) => {
    const key = `${service}\u0000${action}\u0000${resource}`;
    if (!seen.has(key)) seen.set(key, lookup(service, action, resource));
    return seen.get(key);
  };
}

// iam-policy compares condition operators with String.prototype.localeCompare(other, undefined,
// {sensitivity: "accent"}), which builds an ICU collator on every call: a quarter of a matrix's
// CPU. ECMA-402 defines that call as `new Intl.Collator(undefined, options).compare(...)`, so
// one collator gives the same answers. Only the pinned functions are replaced (their source is
// checked); IAM_SIMULATE_PLAIN=1 keeps the package's own and validates each policy per request
// (tests/test_access_matrix.py compares the two).
const PINNED_EQUALS = "return first.localeCompare(second, undefined, caseInsensitiveCompareOptions) === 0;";
function reuseCollator() {
  if (PLAIN) return false;
  const utils = require(path.join(path.dirname(iamPolicyMain()), "utils.js"));
  const options = { sensitivity: "accent" };
  if (
    !String(utils.caseInsensitiveEquals).includes(PINNED_EQUALS) ||
    !String(utils.caseInsensitiveEndsWith).includes("caseInsensitiveEquals(value.slice(suffix.length * -1), suffix)")
  ) {
    return false;
  }
  const collator = new Intl.Collator(undefined, options);
  utils.caseInsensitiveEquals = (first, second) => collator.compare(first, second) === 0;
  utils.caseInsensitiveEndsWith = (value, suffix) =>
    utils.caseInsensitiveEquals(value.slice(suffix.length * -1), suffix);
  return true;
}

async function main() {
  const engine = load();
  if (engine === null) return 2;
  memoizeResourceTypes();
  const collator = reuseCollator();
  let batch;
  try {
    batch = JSON.parse(await readStdin());
  } catch (err) {
    console.error(`error: batch: not valid JSON (${err.message})`);
    return 2;
  }
  const policies = batch.policies || {};
  const validated = PLAIN ? (id, kind) => named(policies, [id], kind)[0].policy : validatedOnce(policies);
  const out = [];
  for (const c of batch.cases || []) {
    try {
      out.push(JSON.stringify(await evaluate(engine, policies, c, validated)));
    } catch (err) {
      out.push(JSON.stringify({ id: c.id, decision: "Error", errors: err.message }));
    }
  }
  process.stdout.write(out.length ? out.join("\n") + "\n" : "");
  // what this run changed of the package's own path (stderr, read by tests/tools/iam_engine.py)
  console.error(JSON.stringify({ shortcuts: { oneCollator: collator, validatedOnce: !PLAIN } }));
  return 0;
}

// exitCode, not exit(): exit() would cut a large stdout written to a pipe short.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`error: iam-simulate: ${err.message}`);
    process.exit(2);
  }
);
